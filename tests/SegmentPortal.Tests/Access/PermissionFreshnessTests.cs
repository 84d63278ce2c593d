using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using static SegmentPortal.Tests.Access.PermissionFixture;

namespace SegmentPortal.Tests.Access;

/// <summary>
/// Rules, roles, accounts and settings change under open sessions: each change applies to the very next query, and
/// the result cache never hands one user's numbers to another. Each test has its own data (they change the rules).
/// </summary>
public sealed class PermissionFreshnessTests : IAsyncLifetime
{
    private readonly PermissionFixture _f = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => _f.InitializeAsync();

    public ValueTask DisposeAsync() => _f.DisposeAsync();

    private static readonly TileDefinition RevenueByRegion = Chart("revenue", TileType.Bar, 0, ["region"], new TileMeasure(TileMeasureKind.Sum, "amount"));

    private async Task<List<string>> RevenueAsync()
    {
        var tile = RevenueByRegion with { DatasetId = _f.Orders.Id };
        var data = await _f.With<TileDataService, TileData>(s => s.LoadAsync(Board(null, tile), tile, DashboardState.Empty, Ct));
        return data.Rows.Select(r => $"{r[0]}|{Convert.ToDouble(r[1], CultureInfo.InvariantCulture)}").ToList();
    }

    private QuerySpec RevenueSpec => new() { DatasetId = _f.Orders.Id, Measures = [new Measure(MeasureKind.Sum, "revenue", "amount")] };

    private Task<QueryResult> RunAsync(QuerySpec spec) => _f.With<QueryService, QueryResult>(q => q.RunAsync(spec, Ct));

    [Fact]
    public async Task Two_users_with_different_rules_on_a_warm_cache_never_see_each_others_numbers()
    {
        _f.AsNorthViewer();
        var northTile = await RevenueAsync();
        var north = await RunAsync(RevenueSpec);
        var northAgain = await RunAsync(RevenueSpec);
        _f.AsSouthViewer();
        var southTile = await RevenueAsync();
        var south = await RunAsync(RevenueSpec);
        _f.AsNorthViewer();
        var northLast = await RevenueAsync();

        Assert.Equal(["North|3200"], northTile);
        Assert.Equal(["South|160"], southTile);
        Assert.Equal(["North|3200"], northLast);
        Assert.True(northAgain.FromCache, "the cache is warm for the North viewer");
        Assert.False(south.FromCache, "the South viewer's query must not be served from the North viewer's entry");
        Assert.Equal(3200.0, QueryValue.ToDouble(north.Scalar("revenue")));
        Assert.Equal(160.0, QueryValue.ToDouble(south.Scalar("revenue")));
    }

    [Fact]
    public async Task A_rule_edited_from_North_to_South_applies_on_the_next_query()
    {
        _f.AsNorthViewer();
        var before = await RevenueAsync();
        await using (var db = await _f.Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            var rule = await db.RowRules.SingleAsync(r => r.DatasetId == _f.Orders.Id && r.Role == Roles.Viewer, Ct);
            rule.RuleJson = Rule(new Core.Rules.FieldCondition { Field = "region", Operator = Core.Rules.RuleOperator.Equals, Value = "South" });
            await db.SaveChangesAsync(Ct);
        }
        var after = await RevenueAsync();

        Assert.Equal(["North|3200"], before);
        Assert.Equal(["South|160"], after);
    }

    [Fact]
    public async Task A_changed_user_attribute_applies_on_the_next_query()
    {
        _f.AsNorthViewer();
        var before = await RevenueAsync();
        await _f.SetAttributeAsync(_f.NorthViewer, "Region", "East");

        Assert.Equal(["North|3200"], before);
        Assert.Equal(["East|100"], await RevenueAsync());
    }

    [Fact]
    public async Task Removing_the_users_role_refuses_the_next_query()
    {
        _f.AsNorthViewer();
        Assert.Equal(2, (await _f.With<DatasetProfiler, DatasetPreview>(p => p.PreviewAsync(_f.Customers.Id, Ct))).Rows.Count);

        // The session still carries the Viewer role; the store no longer does.
        await _f.RemoveRoleAsync(_f.NorthViewer, Roles.Viewer);

        await Assert.ThrowsAsync<PermissionDeniedException>(() => _f.With<DatasetProfiler, DatasetPreview>(p => p.PreviewAsync(_f.Customers.Id, Ct)));
        await Assert.ThrowsAsync<PermissionDeniedException>(RevenueAsync);
    }

    [Fact]
    public async Task Disabling_the_user_refuses_the_next_query()
    {
        _f.AsNorthViewer();
        Assert.Equal(["North|3200"], await RevenueAsync());

        await _f.DisableAsync(_f.NorthViewer);

        var error = await Assert.ThrowsAsync<PermissionDeniedException>(RevenueAsync);
        Assert.Contains("disabled", error.Message);
    }

    [Fact]
    public async Task Saving_a_tile_or_a_segment_on_a_column_hidden_from_the_user_is_refused()
    {
        await using (var db = await _f.Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            db.ColumnRules.Add(new ColumnRule { DatasetId = _f.Customers.Id, Column = "phone", Role = Roles.Analyst, Treatment = ColumnTreatment.Hidden });
            await db.SaveChangesAsync(Ct);
        }
        _f.AsNorthAnalyst();
        var board = await _f.With<DashboardService, int>(s => s.CreateAsync("Phones", cancellationToken: Ct));
        var rule = new Core.Rules.RuleGroup { Children = [new Core.Rules.FieldCondition { Field = "phone", Operator = Core.Rules.RuleOperator.IsNotEmpty }] };

        var tile = await Assert.ThrowsAsync<PortalException>(() => _f.With<DashboardService, DashboardView>(s =>
            s.AddTileAsync(board, Chart("phones", TileType.Table, _f.Customers.Id, ["name", "phone"]), cancellationToken: Ct)));
        var segment = await Assert.ThrowsAsync<PortalException>(() => _f.With<Core.Segments.SegmentService, int>(s =>
            s.CreateAsync(new Core.Segments.SegmentDraft("Phones", _f.Customers.Id, new Core.Rules.RuleTree { Root = rule }), Ct)));

        Assert.Contains("do not have access to the column \"phone\"", tile.Message);
        Assert.Contains("phone", segment.Message);
    }

    [Fact]
    public async Task Admins_are_exempt_by_default_and_ruled_when_the_setting_is_off()
    {
        _f.AsAdmin();
        var exempt = await _f.With<DatasetProfiler, DatasetPreview>(p => p.PreviewAsync(_f.Customers.Id, Ct));

        await _f.SetSettingAsync(PortalSettings.AdminsSeeAllData, "false");
        var ruled = await _f.With<DatasetProfiler, DatasetPreview>(p => p.PreviewAsync(_f.Customers.Id, Ct));
        var ruledRevenue = await RevenueAsync();

        Assert.Equal(5, exempt.Rows.Count);
        Assert.Equal(7, exempt.Columns.Count);
        // No row rule is for Admins: fail closed.
        Assert.Empty(ruled.Rows);
        Assert.Empty(ruledRevenue);
    }
}
