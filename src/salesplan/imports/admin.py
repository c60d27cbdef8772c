from django.contrib import admin

from .models import ImportFile, ImportMapping


@admin.register(ImportFile)
class ImportFileAdmin(admin.ModelAdmin):
    list_display = ("original_name", "resource", "uploaded_by", "estimated_rows", "created_at")
    list_filter = ("resource",)
    readonly_fields = ("headers", "estimated_rows")


@admin.register(ImportMapping)
class ImportMappingAdmin(admin.ModelAdmin):
    list_display = ("user", "resource", "updated_at")
    list_filter = ("resource",)
