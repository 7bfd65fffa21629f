# Issue 6: what happened to a call (hold time, transfer, conference) and the trunk settings for
# outbound calls (address, caller ID, digest credentials).

import aqualine.callcenter.models
import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('callcenter', '0004_recordings'),
    ]

    operations = [
        migrations.AddField(
            model_name='callrecord',
            name='conference',
            field=models.BooleanField(default=False, verbose_name='three-party conference'),
        ),
        migrations.AddField(
            model_name='callrecord',
            name='hold_seconds',
            field=models.FloatField(default=0, verbose_name='time on hold (seconds)'),
        ),
        migrations.AddField(
            model_name='callrecord',
            name='transfer_agent_id',
            field=models.CharField(blank=True, max_length=20, verbose_name='transferred to agent'),
        ),
        migrations.AddField(
            model_name='callrecord',
            name='transfer_target',
            field=models.CharField(blank=True, max_length=64, verbose_name='transferred to'),
        ),
        migrations.AddField(
            model_name='callrecord',
            name='transferred_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='transferred'),
        ),
        migrations.AddField(
            model_name='trunk',
            name='caller_id',
            field=models.CharField(blank=True, help_text='The number the called party sees. Empty: the first hotline number.', max_length=21, validators=[django.core.validators.RegexValidator('^\\+?[0-9]{2,20}$', 'A caller ID is a phone number: up to 20 digits.')], verbose_name='caller ID'),
        ),
        migrations.AddField(
            model_name='trunk',
            name='outbound_address',
            field=models.CharField(blank=True, help_text='Where outbound calls go: host or host:port. Empty: no outbound calls.', max_length=255, validators=[aqualine.callcenter.models.validate_outbound_address], verbose_name='outbound address'),
        ),
        migrations.AddField(
            model_name='trunk',
            name='outbound_password',
            field=models.CharField(blank=True, max_length=100, verbose_name='outbound digest password'),
        ),
        migrations.AddField(
            model_name='trunk',
            name='outbound_username',
            field=models.CharField(blank=True, help_text='Empty: the digest user name above.', max_length=100, verbose_name='outbound digest user name'),
        ),
    ]
