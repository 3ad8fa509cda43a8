"""The lesson catalog and skill taxonomy: data (Markdown, TOML) plus a loader."""
