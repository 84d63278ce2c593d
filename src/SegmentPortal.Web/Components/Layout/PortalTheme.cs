using MudBlazor;

namespace SegmentPortal.Web.Components.Layout;

/// <summary>The portal's look, light and dark. Charts read the same palette so they follow the mode.</summary>
public static class PortalTheme
{
    private static readonly string[] FontStack =
        ["Inter", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "Noto Sans", "Noto Sans CJK SC", "sans-serif"];

    public static MudTheme Theme { get; } = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#3949ab",
            Secondary = "#00897b",
            Tertiary = "#f4511e",
            AppbarBackground = "#283593",
            Background = "#f5f6fa",
            DrawerBackground = "#ffffff",
            DrawerText = "rgba(0,0,0,0.8)",
            Surface = "#ffffff",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#8c9eff",
            Secondary = "#4db6ac",
            Tertiary = "#ff8a65",
            AppbarBackground = "#1a1d2e",
            Background = "#12141f",
            DrawerBackground = "#181b29",
            Surface = "#1e2233",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = FontStack },
        },
        LayoutProperties = new LayoutProperties { DrawerWidthLeft = "240px" },
    };
}
