using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Metrics;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Alerts;

/// <summary>The names alerts show (their metrics, boards and tiles, segments and owners), read in a few queries for a list.</summary>
internal sealed class AlertNames
{
    private readonly Dictionary<int, Metric> _metrics;
    private readonly Dictionary<int, (string Name, IReadOnlyList<TileDefinition> Tiles)> _boards;
    private readonly Dictionary<int, string> _segments;
    private readonly Dictionary<string, string> _users;

    private AlertNames(Dictionary<int, Metric> metrics, Dictionary<int, (string, IReadOnlyList<TileDefinition>)> boards,
        Dictionary<int, string> segments, Dictionary<string, string> users)
    {
        _metrics = metrics;
        _boards = boards;
        _segments = segments;
        _users = users;
    }

    public static async Task<AlertNames> LoadAsync(IPortalDb db, IReadOnlyCollection<Alert> alerts, CancellationToken cancellationToken)
    {
        var metricIds = alerts.Select(a => a.MetricId).OfType<int>().Distinct().ToList();
        var boardIds = alerts.Select(a => a.DashboardId).OfType<int>().Distinct().ToList();
        var segmentIds = alerts.Select(a => a.SegmentId).OfType<int>()
            .Concat(alerts.Where(a => a.Subject == AlertSubject.Segment)
                .Select(a => AlertService.Read<SegmentAlertCondition>(a.ConditionJson)?.ToSegmentId).OfType<int>())
            .Distinct().ToList();
        var owners = alerts.Select(a => a.OwnerId).Distinct().ToList();
        var metrics = await db.Metrics.AsNoTracking().Where(m => metricIds.Contains(m.Id)).ToDictionaryAsync(m => m.Id, cancellationToken);
        var boards = (await db.Dashboards.AsNoTracking().Where(d => boardIds.Contains(d.Id)).Select(d => new { d.Id, d.Name, d.TilesJson }).ToListAsync(cancellationToken))
            .ToDictionary(d => d.Id, d => (d.Name, Tiles(d.TilesJson)));
        var segments = await db.Segments.AsNoTracking().Where(s => segmentIds.Contains(s.Id)).ToDictionaryAsync(s => s.Id, s => s.Name, cancellationToken);
        var users = (await db.Users.AsNoTracking().Where(u => owners.Contains(u.Id)).Select(u => new { u.Id, u.Email, u.DisplayName }).ToListAsync(cancellationToken))
            .ToDictionary(u => u.Id, u => string.IsNullOrWhiteSpace(u.DisplayName) ? u.Email ?? u.Id : u.DisplayName);
        return new AlertNames(metrics, boards, segments, users);
    }

    public string? Metric(int? id) => id is { } i && _metrics.TryGetValue(i, out var m) ? m.Name : null;

    public string? Dashboard(int? id) => id is { } i && _boards.TryGetValue(i, out var b) ? b.Name : null;

    public string? Tile(int? dashboardId, string? tileId) =>
        dashboardId is { } i && _boards.TryGetValue(i, out var b) && b.Tiles.FirstOrDefault(t => t.Id == tileId) is { } tile
            ? string.IsNullOrWhiteSpace(tile.Title) ? TileKinds.Of(tile.Type).Label : tile.Title
            : null;

    public string? Segment(int? id) => id is { } i && _segments.TryGetValue(i, out var name) ? name : null;

    public string User(string id) => _users.GetValueOrDefault(id) ?? "(removed user)";

    /// <summary>How a metric writes its numbers (its format, unit and decimals); plain numbers otherwise.</summary>
    public Func<double, string>? Formatter(int? metricId) =>
        metricId is { } i && _metrics.TryGetValue(i, out var m) ? v => MetricFormatting.Format(v, m.Format, m.Unit, m.Decimals) : null;

    private static IReadOnlyList<TileDefinition> Tiles(string json)
    {
        try
        {
            return DashboardJson.Read<TileDefinition>(json);
        }
        catch (PortalException)
        {
            return [];
        }
    }
}
