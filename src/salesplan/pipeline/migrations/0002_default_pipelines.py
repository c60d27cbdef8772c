"""Every installation starts with the three usual pipelines; admins edit them later."""

from django.db import migrations

DEFAULT_PIPELINES = [
    ("New business", "new_business", True, [
        ("Prospecting", 10, "open"), ("Qualification", 20, "open"), ("Needs analysis", 35, "open"),
        ("Proposal", 55, "open"), ("Negotiation", 75, "open"), ("Closed won", 100, "won"),
        ("Closed lost", 0, "lost"),
    ]),
    ("Renewal", "renewal", False, [
        ("Upcoming", 60, "open"), ("In discussion", 75, "open"), ("Committed", 90, "open"),
        ("Renewed", 100, "won"), ("Churned", 0, "lost"),
    ]),
    ("Upsell", "upsell", False, [
        ("Identified", 20, "open"), ("Proposal", 50, "open"), ("Negotiation", 75, "open"),
        ("Won", 100, "won"), ("Lost", 0, "lost"),
    ]),
]


def create_pipelines(apps, schema_editor):
    Pipeline = apps.get_model("pipeline", "Pipeline")
    Stage = apps.get_model("pipeline", "Stage")
    if Pipeline.objects.exists():
        return
    for position, (name, kind, is_default, stages) in enumerate(DEFAULT_PIPELINES):
        pipeline = Pipeline.objects.create(name=name, kind=kind, is_default=is_default,
                                           position=position)
        Stage.objects.bulk_create(
            Stage(pipeline=pipeline, name=s, probability=p, kind=k, position=i)
            for i, (s, p, k) in enumerate(stages)
        )


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0001_initial")]
    operations = [migrations.RunPython(create_pipelines, migrations.RunPython.noop)]
