using Plotly.Blazor;
using Plotly.Blazor.LayoutLib;

namespace SegmentPortal.Web.Components.Shared.Charts;

/// <summary>One look for every Plotly chart: transparent background, the app's font and colours, light or dark.</summary>
public static class ChartTheme
{
    public const string DarkModeName = "DarkMode";

    public static readonly string[] Colorway = ["#3949ab", "#00897b", "#f4511e", "#8e24aa", "#fdd835", "#6d4c41", "#039be5", "#c0ca33"];

    /// <summary>A colour (#rrggbb) at 15% opacity, for a confidence band.</summary>
    public static string Translucent(string hex) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"rgba({Convert.ToInt32(hex[1..3], 16)},{Convert.ToInt32(hex[3..5], 16)},{Convert.ToInt32(hex[5..7], 16)},0.15)");

    public static Plotly.Blazor.Layout Layout(bool dark, int height, bool showLegend = false) => new()
    {
        Height = height,
        Margin = new Margin { L = 40, R = 10, T = 10, B = 40 },
        PaperBgColor = "rgba(0,0,0,0)",
        PlotBgColor = "rgba(0,0,0,0)",
        Font = new Font { Color = dark ? "#d7dae6" : "#424242", Family = "Inter, Segoe UI, Roboto, Helvetica Neue, Arial, sans-serif", Size = 11 },
        ShowLegend = showLegend,
        Colorway = Colorway,
        XAxis = [new XAxis { GridColor = dark ? "#2c3148" : "#eceff1", AutoMargin = Plotly.Blazor.LayoutLib.XAxisLib.AutoMarginFlag.True }],
        YAxis = [new YAxis { GridColor = dark ? "#2c3148" : "#eceff1", AutoMargin = Plotly.Blazor.LayoutLib.YAxisLib.AutoMarginFlag.True }],
    };

    public static Config Config() => new()
    {
        Responsive = true,
        DisplayLogo = false,
        DisplayModeBar = Plotly.Blazor.ConfigLib.DisplayModeBarEnum.Hover,
    };
}
