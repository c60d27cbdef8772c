from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "salesplan.pipeline"
    label = "pipeline"
