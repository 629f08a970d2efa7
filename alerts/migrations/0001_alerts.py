

import django.contrib.gis.db.models.fields
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('changelog', '0002_add_alerts_matched'),
        ('municipalities', '0002_capital_spend_source_has_no_default'),
        ('projects', '0005_source_choices_from_registry'),
        ('reports', '0003_move_adminaction_to_changelog'),
    ]

    operations = [
        migrations.CreateModel(
            name='MatchCursor',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=30, unique=True)),
                ('last_change_id', models.BigIntegerField(default=0)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.CreateModel(
            name='Subscriber',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('email', models.EmailField(max_length=254, unique=True, verbose_name='email')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('last_immediate_at', models.DateTimeField(blank=True, null=True, verbose_name='last immediate email')),
                ('last_digest_at', models.DateTimeField(blank=True, null=True, verbose_name='last daily digest')),
                ('hard_failures', models.PositiveIntegerField(default=0, verbose_name='hard failures in a row')),
                ('paused_at', models.DateTimeField(blank=True, null=True, verbose_name='paused')),
                ('paused_reason', models.CharField(blank=True, max_length=200, verbose_name='why paused')),
            ],
            options={
                'verbose_name': 'subscriber',
                'verbose_name_plural': 'subscribers',
            },
        ),
        migrations.CreateModel(
            name='Alert',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('project', 'A project'), ('municipality', 'A municipality'), ('area', 'An area')], max_length=12, verbose_name='what is followed')),
                ('center', django.contrib.gis.db.models.fields.PointField(blank=True, null=True, srid=4326, verbose_name='centre of the area')),
                ('radius_km', models.DecimalField(blank=True, decimal_places=1, max_digits=4, null=True, verbose_name='radius (km)')),
                ('place', models.CharField(blank=True, max_length=200, verbose_name='place named')),
                ('target_key', models.CharField(max_length=120, verbose_name='target')),
                ('frequency', models.CharField(choices=[('immediate', 'As it happens (at most one email every 5 minutes)'), ('daily', 'A daily summary at 07:00')], default='immediate', max_length=10, verbose_name='how often')),
                ('language', models.CharField(max_length=10, verbose_name='language')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('confirmed_at', models.DateTimeField(blank=True, null=True, verbose_name='confirmed')),
                ('unsubscribed_at', models.DateTimeField(blank=True, null=True, verbose_name='unsubscribed')),
                ('municipality', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='municipalities.municipality', verbose_name='municipality')),
                ('project', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='projects.project', verbose_name='project')),
                ('subscriber', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='alerts', to='alerts.subscriber', verbose_name='subscriber')),
            ],
            options={
                'verbose_name': 'alert',
                'verbose_name_plural': 'alerts',
            },
        ),
        migrations.CreateModel(
            name='Delivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('confirmation', 'Confirmation request'), ('alerts', 'Alert email')], max_length=12, verbose_name='kind')),
                ('frequency', models.CharField(blank=True, choices=[('immediate', 'As it happens (at most one email every 5 minutes)'), ('daily', 'A daily summary at 07:00')], max_length=10, verbose_name='how often')),
                ('language', models.CharField(max_length=10, verbose_name='language')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='claimed')),
                ('lease_until', models.DateTimeField(blank=True, null=True, verbose_name='held by a sender until')),
                ('next_attempt_at', models.DateTimeField(blank=True, null=True, verbose_name='next attempt')),
                ('attempts', models.PositiveIntegerField(default=0, verbose_name='attempts')),
                ('last_error', models.TextField(blank=True, verbose_name='last error')),
                ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent')),
                ('given_up_at', models.DateTimeField(blank=True, null=True, verbose_name='given up')),
                ('message_id', models.CharField(blank=True, max_length=200, verbose_name='Message-ID')),
                ('alert', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='confirmations', to='alerts.alert', verbose_name='alert to confirm')),
                ('subscriber', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='alerts.subscriber', verbose_name='subscriber')),
            ],
            options={
                'verbose_name': 'delivery',
                'verbose_name_plural': 'deliveries',
                'ordering': ['-pk'],
            },
        ),
        migrations.CreateModel(
            name='Bounce',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('hard', models.BooleanField(default=True, verbose_name='hard (the address does not work)')),
                ('reason', models.TextField(verbose_name='reason')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='when')),
                ('delivery', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='bounces', to='alerts.delivery')),
                ('subscriber', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='bounces', to='alerts.subscriber')),
            ],
            options={
                'verbose_name': 'bounce',
                'verbose_name_plural': 'bounces',
                'ordering': ['-pk'],
            },
        ),
        migrations.CreateModel(
            name='AlertItem',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('alert', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='items', to='alerts.alert')),
                ('change', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='changelog.datachangelog')),
                ('report', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='reports.report')),
                ('delivery', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='items', to='alerts.delivery')),
            ],
            options={
                'verbose_name': 'alert item',
                'verbose_name_plural': 'alert items',
                'indexes': [models.Index(condition=models.Q(('delivery__isnull', True)), fields=['alert'], name='alert_item_pending_idx')],
                'constraints': [models.UniqueConstraint(fields=('alert', 'change'), name='alert_item_once')],
            },
        ),
        migrations.AddIndex(
            model_name='delivery',
            index=models.Index(condition=models.Q(('given_up_at__isnull', True), ('sent_at__isnull', True)), fields=['next_attempt_at'], name='delivery_unsent_idx'),
        ),
        migrations.AddIndex(
            model_name='delivery',
            index=models.Index(fields=['subscriber', 'created_at'], name='delivery_subscriber_idx'),
        ),
        migrations.AddIndex(
            model_name='alert',
            index=models.Index(condition=models.Q(('project__isnull', False)), fields=['project'], name='alert_project_idx'),
        ),
        migrations.AddIndex(
            model_name='alert',
            index=models.Index(condition=models.Q(('municipality__isnull', False)), fields=['municipality'], name='alert_municipality_idx'),
        ),
        migrations.AddIndex(
            model_name='alert',
            index=models.Index(condition=models.Q(('confirmed_at__isnull', True)), fields=['created_at'], name='alert_unconfirmed_idx'),
        ),
        migrations.AddConstraint(
            model_name='alert',
            constraint=models.UniqueConstraint(condition=models.Q(('unsubscribed_at__isnull', True)), fields=('subscriber', 'target_key'), name='alert_one_per_target'),
        ),
        migrations.AddConstraint(
            model_name='alert',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'project'), ('project__isnull', False)), models.Q(('kind', 'municipality'), ('municipality__isnull', False)), models.Q(('center__isnull', False), ('kind', 'area'), ('radius_km__gte', 0.5), ('radius_km__lte', 50)), _connector='OR'), name='alert_target_matches_kind'),
        ),
    ]
