using Plotly.Blazor;
using Plotly.Blazor.Traces;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Web.Components.Shared.Charts;
using LineShape = Plotly.Blazor.Traces.ScatterLib.LineLib.ShapeEnum;
using ScatterMode = Plotly.Blazor.Traces.ScatterLib.ModeFlag;

namespace SegmentPortal.Web.Components.Dashboards.Tiles;

/// <summary>Kaplan–Meier curves on a board, as the survival page draws them: steps, one line per group, with their 95% bands.</summary>
public static class SurvivalTraces
{
    /// <summary>The legend group of every band: one legend entry shows or hides them all.</summary>
    public const string BandLegendGroup = "band";

    /// <summary>
    /// A line per group (dimension 0, in row order) through its points (dimension 1 the days, measure 0 the survival),
    /// drawn as steps; measures 1 and 2, the lower and upper bound, shade its band; measure 3 is the customers at risk,
    /// on hover. Each group's first row is its start (day 0, all customers at risk).
    /// </summary>
    public static ChartFigure Curves(TileData data)
    {
        var groups = data.Rows.GroupBy(r => TileRows.Key(TileRows.Dimension(r, 0)))
            .Select(g => (Name: TileFormat.Value(TileRows.Dimension(g.First(), 0)), Rows: g.ToList())).ToList();
        var hasBands = data.Measures.Count >= 3;
        var traces = new List<ITrace>();
        for (var i = 0; i < groups.Count; i++)
        {
            var (name, rows) = groups[i];
            var days = TileTraces.Objects(rows.Select(r => TileFormat.ToDouble(TileRows.Dimension(r, 1))));
            if (hasBands)
            {
                traces.Add(new Scatter
                {
                    Name = $"{name} upper", X = days, Y = TileTraces.Objects(rows.Select(r => TileRows.Measure(data, r, 2))),
                    Mode = ScatterMode.Lines, LegendGroup = BandLegendGroup, ShowLegend = false,
                    Line = new Plotly.Blazor.Traces.ScatterLib.Line { Width = 0, Color = TileTraces.Color(i), Shape = LineShape.Hv },
                    HoverInfo = Plotly.Blazor.Traces.ScatterLib.HoverInfoFlag.Skip,
                });
                traces.Add(new Scatter
                {
                    Name = "95% band", X = days, Y = TileTraces.Objects(rows.Select(r => TileRows.Measure(data, r, 1))),
                    Mode = ScatterMode.Lines, LegendGroup = BandLegendGroup, ShowLegend = i == 0,
                    Fill = Plotly.Blazor.Traces.ScatterLib.FillEnum.ToNextY, FillColor = ChartTheme.Translucent(TileTraces.Color(i)),
                    Line = new Plotly.Blazor.Traces.ScatterLib.Line { Width = 0, Color = TileTraces.Color(i), Shape = LineShape.Hv },
                    HoverInfo = Plotly.Blazor.Traces.ScatterLib.HoverInfoFlag.Skip,
                });
            }
            var customers = rows.Count > 0 ? TileRows.Measure(data, rows[0], 3) : null;
            traces.Add(new Scatter
            {
                Name = customers is { } n ? $"{name} ({TileFormat.Number(n)})" : name,
                X = days,
                Y = TileTraces.Objects(rows.Select(r => TileRows.Measure(data, r, 0))),
                CustomData = TileTraces.Objects(rows.Select(r => TileFormat.Number(TileRows.Measure(data, r, 3)))),
                Mode = ScatterMode.Lines,
                Line = new Plotly.Blazor.Traces.ScatterLib.Line { Width = 2, Color = TileTraces.Color(i), Shape = LineShape.Hv },
                HoverTemplate = $"{PlotlyText.Text(name)}: %{{y:.1%}} after %{{x}} days (%{{customdata}} at risk)<extra></extra>",
            });
        }
        return new ChartFigure
        {
            Traces = traces,
            ShowLegend = true,
            ConfigureLayout = layout =>
            {
                // The days on the ticks rather than as an axis title, which the legend below the plot would cover.
                layout.XAxis[0].TickSuffix = " days";
                layout.YAxis[0].Range = [0, 1.02];
                layout.YAxis[0].TickFormat = ".0%";
                TileTraces.BottomLegend(layout);
            },
            // Points on a curve are times, not values of a column: a click filters nothing.
            Marks = null,
        };
    }
}
