using System.ComponentModel;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Identity;

namespace SegmentPortal.Web.Api;

/// <summary>A dashboard you may see.</summary>
public sealed record ApiDashboardSummary(int Id, string Name, string? Description, string? Owner, int Tiles, int? FolderId, DateTimeOffset UpdatedAt, bool CanEdit);

/// <summary>A tile of a dashboard: its id (for its data), type and title.</summary>
public sealed record ApiTile(
    string Id,
    [property: JsonConverter(typeof(JsonStringEnumConverter<TileType>))] TileType Type,
    string? Title);

/// <summary>A dashboard and its tiles.</summary>
public sealed record ApiDashboard(int Id, string Name, string? Description, IReadOnlyList<ApiTile> Tiles, DateTimeOffset UpdatedAt, bool CanEdit);

/// <summary>A tile's data as you see it on the board: the dimension and measure names, and rows of dimension values then measure values.</summary>
public sealed record ApiTileData(
    string TileId,
    [property: JsonConverter(typeof(JsonStringEnumConverter<TileType>))] TileType Type,
    IReadOnlyList<string> Dimensions,
    IReadOnlyList<string> Measures,
    IReadOnlyList<object?[]> Rows,
    [property: Description("Table tiles: one total per measure over every row.")] IReadOnlyList<double?>? Totals,
    [property: Description("KPI tiles: the current and previous period's value and the sparkline.")] KpiData? Kpi,
    [property: Description("Rows were cut at the tile's limit (tables: further pages exist).")] bool Truncated,
    [property: Description("Why there is nothing to show, in words (an analysis not run yet, figures withheld), or null.")] string? Notice,
    [property: Description("Text tiles: their Markdown.")] string? Markdown);

/// <summary>The dashboards endpoints of <see cref="ApiV1"/>: the boards you may see and their tiles' data, through the tile service.</summary>
public static class DashboardsApi
{
    public static RouteGroupBuilder MapDashboardsApi(this RouteGroupBuilder v1)
    {
        var dashboards = v1.MapGroup("/dashboards").WithTags("Dashboards").RequireScope(ApiScopes.ReadDashboards).ServedAsUser();

        dashboards.MapGet("/", ListAsync)
            .WithName("ListDashboards")
            .WithSummary("List dashboards")
            .WithDescription("The boards you may see (your own and those shared with you), ordered by id, 50 a page by default (`limit` up to 100).");
        dashboards.MapGet("/{id:int}", GetAsync)
            .WithName("GetDashboard")
            .WithSummary("A dashboard's tiles")
            .WithDescription("The board's tiles: their ids (for their data), types and titles.");
        dashboards.MapGet("/{id:int}/tiles/{tileId}/data", TileDataAsync)
            .WithName("GetTileData")
            .WithSummary("A tile's data")
            .WithDescription("The tile's data as the board shows it to you, with its saved filters: over the rows and columns you may see.");
        return v1;
    }

    private static async Task<Results<Ok<ApiPage<ApiDashboardSummary>>, ProblemHttpResult>> ListAsync(
        DashboardService dashboards, string? cursor, int? limit, CancellationToken ct)
    {
        var all = (await dashboards.ListAsync(ct)).Select(d => new ApiDashboardSummary(d.Id, d.Name, d.Description, d.Owner, d.TileCount, d.FolderId, d.UpdatedAt, d.CanEdit));
        return ApiCursor.ById(all, d => d.Id, "dashboards", cursor, limit) is { } page
            ? TypedResults.Ok(page)
            : ApiServing.BadRequest(ApiCursor.InvalidMessage);
    }

    private static async Task<Ok<ApiDashboard>> GetAsync(int id, DashboardService dashboards, CancellationToken ct)
    {
        var board = await dashboards.GetAsync(id, ct);
        return TypedResults.Ok(new ApiDashboard(board.Id, board.Name, board.Description,
            board.Tiles.Select(t => new ApiTile(t.Id, t.Type, t.Title)).ToList(), board.UpdatedAt, board.CanEdit));
    }

    private static async Task<Results<Ok<ApiTileData>, ProblemHttpResult>> TileDataAsync(
        int id, string tileId, DashboardService dashboards, TileDataService tiles, CancellationToken ct)
    {
        var board = await dashboards.GetAsync(id, ct);
        if (board.Tiles.FirstOrDefault(t => t.Id == tileId) is not { } tile)
        {
            return ApiServing.NotFound("That tile is not on this dashboard.");
        }
        var data = await tiles.LoadAsync(board, tile, DashboardState.Empty, ct);
        return TypedResults.Ok(new ApiTileData(tile.Id, data.Type, data.Dimensions, data.Measures, ApiValues.Rows(data.Rows), data.Totals,
            data.Kpi, data.Truncated, data.Notice, data.Markdown));
    }
}
