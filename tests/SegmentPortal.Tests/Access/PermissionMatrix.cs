using SegmentPortal.Core.Catalog;

using static SegmentPortal.Tests.Access.Outcome;

namespace SegmentPortal.Tests.Access;

/// <summary>What one kind of user gets from one surface.</summary>
public enum Outcome
{
    /// <summary>Every row and column as stored (the owner's view).</summary>
    All,

    /// <summary>Only the rows and columns the user's rules allow, masked values masked.</summary>
    Own,

    /// <summary>A <see cref="Core.PortalException"/> (<see cref="Core.Identity.PermissionDeniedException"/> where the row says so).</summary>
    Refused,

    /// <summary>The surface answers but shows none of the stored figures (they were counted over someone else's rows).</summary>
    Withheld,

    /// <summary>Either <see cref="Own"/> or <see cref="Withheld"/> (the fix may recount or withhold), never the owner's figures.</summary>
    OwnOrWithheld,

    /// <summary>Answers with nothing (no rows, no fields).</summary>
    None,
}

/// <summary>A data-serving surface: a row of the matrix, the Core methods it covers, and what each kind of user gets.</summary>
/// <param name="Methods">Every public Core method this row covers, as <c>TypeName.MethodName</c>.</param>
public sealed record Surface(string Name, Outcome[] Cells, params string[] Methods)
{
    public Outcome this[UserKind kind] => Cells[(int)kind];

    public override string ToString() => Name;
}

/// <summary>
/// The permission matrix of issue 12: every data-serving surface × every kind of user, with the expected outcome. Each
/// cell runs as a case of <see cref="PermissionMatrixTests.Cell"/> against the data of <see cref="PermissionMatrixFixture"/>,
/// and <see cref="PermissionMatrixTests.Every_data_serving_method_has_a_row"/> fails when a Core method that serves
/// customer data has no row here. Add a row with every new surface.
/// </summary>
public static class PermissionMatrix
{
    // Cells that fail on today's code are listed in Open below, with the hole that makes them fail.
    public static readonly Surface[] Surfaces =
    [
        //                                  Owner  Editor  ViewSh  RowRul  ColRul  Viewer  Public     Revoked    ViewAs
        new("Dataset preview",             [All,   Own,    All,    Own,    Own,    Own,    Refused,   Refused,   Own], "DatasetProfiler.PreviewAsync"),
        new("Column profile",              [All,   Own,    All,    Own,    Own,    Own,    Refused,   Refused,   Own], "DatasetProfiler.ProfileAsync"),
        new("Dataset row counts",          [All,   Own,    All,    Own,    Own,    Own,    Refused,   Refused,   Own],
            "DatasetProfiler.OverviewAsync", "DatasetProfiler.CountAsync", "DatasetCatalog.ListAsync", "DatasetCatalog.GetOverviewAsync",
            "RuleBuilderService.SegmentableDatasetsAsync"),
        // L5: the imports' row counts were counted over every row.
        new("Dataset history",             [All,   OwnOrWithheld, All, OwnOrWithheld, OwnOrWithheld, OwnOrWithheld, Refused, Refused, OwnOrWithheld], "DatasetCatalog.HistoryAsync"),
        new("Board definition",            [All,   All,    All,    All,    All,    All,    All,       Refused,   All], "DashboardService.GetAsync"),
        // L4 (revoked): an open tab keeps loading tiles of a revoked link.
        new("Tile data",                   [All,   Own,    All,    Own,    Own,    Own,    Own,       Refused,   Own], "TileDataService.LoadAsync"),
        // A board's tiles loaded together: their queries over the same rows fused into one (QueryFusion), each tile's
        // rows exactly as when it loads alone, the user's row and column rules applied to the fused query.
        new("Board load (fused tiles)",    [All,   Own,    All,    Own,    Own,    Own,    Own,       Refused,   Own],
            "TileDataService.LoadBoard", "TileDataService.LoadBoardAsync", "QueryFusion.RunAsync"),
        new("Filter values and fields",    [All,   Own,    All,    Own,    Own,    Own,    Own,       Refused,   Own],
            "TileDataService.FilterValuesAsync", "TileDataService.FilterFieldsAsync"),
        // L6 (public): "View customers" on a public board.
        new("Underlying rows",             [All,   Own,    All,    Own,    Own,    Own,    Refused,   Refused,   Own], "TileDataService.UnderlyingAsync"),
        new("Tile export (CSV, XLSX)",     [All,   Own,    All,    Own,    Own,    Own,    Refused,   Refused,   Own],
            "SharingService.RecordExportAsync", "TableExport.WriteCsvAsync", "TableExport.WriteXlsxAsync"),
        new("Board PDF/PNG",               [All,   Own,    All,    Own,    Own,    Own,    Refused,   Refused,   Own], "SharingService.RecordExportAsync"),
        new("Segment live count",          [All,   Own,    All,    Own,    Own,    Own,    Refused,   Refused,   Own], "SegmentService.CountAsync"),
        new("Segment member preview",      [All,   Own,    All,    Own,    Own,    Own,    Refused,   Refused,   Own], "SegmentService.MembersAsync"),
        new("Segment member export",       [All,   Own,    All,    Own,    Own,    Own,    Refused,   Refused,   Own], "SegmentService.AllMembersAsync"),
        // The REST API's members endpoint: a page of a saved segment's members, key first, with holdout flags.
        new("Segment member page (API)",   [All,   Own,    All,    Own,    Own,    Own,    Refused,   Refused,   Own], "SegmentService.MemberPageAsync"),
        new("Segment stored sizes and history", [All, Withheld, All, Withheld, Withheld, Withheld, Refused, Refused, Withheld],
            "SegmentService.GetAsync", "SegmentService.ListAsync", "SegmentService.HistoryAsync", "SegmentService.ChangesAsync",
            "SegmentService.StoredCountsVisibleAsync", "SegmentService.CompareAsync"),
        // A write: only the owner and an Editor may refresh (a read-only share is read-only); the snapshot counts their rows.
        new("Segment refresh",             [All,   Own,    Refused, Refused, Refused, Refused, Refused, Refused, Refused], "SegmentService.RefreshAsync"),
        // A sync sends the members as the person who made it sees them (their rows, only columns they see unmasked); making
        // and running one is a write, for the segment's owner and Editors (who manage data), never a Viewer or a view-as.
        new("Segment sync (members sent)", [All,   Own,    Refused, Refused, Refused, Refused, Refused, Refused, Refused],
            "SyncService.CreateAsync", "SyncService.ChoicesAsync", "SyncService.RunNowAsync", "SyncService.HistoryAsync"),
        new("Segment size tile",           [All,   Own,    All,    Own,    Own,    Own,    Refused,   Refused,   Own], "TileDataService.LoadAsync"),
        new("RFM grid tile",               [All,   Own,    All,    Own,    Own,    Own,    Refused,   Refused,   Own], "TileDataService.LoadAsync"),
        new("Cluster profile tile",        [All,   Withheld, All,  Withheld, Withheld, Withheld, Refused, Refused, Withheld], "TileDataService.LoadAsync"),
        new("Lifecycle stages tile",       [All,   Withheld, All,  Withheld, Withheld, Withheld, Refused, Refused, Withheld], "TileDataService.LoadAsync"),
        // L1: the saved RFM result was counted over the owner's rows.
        new("RFM saved result",            [All,   OwnOrWithheld, All, OwnOrWithheld, OwnOrWithheld, OwnOrWithheld, Refused, Refused, OwnOrWithheld], "RfmService.GetAsync"),
        new("RFM live result",             [All,   Own,    All,    Own,    Own,    Own,    Refused,   Refused,   Own], "RfmService.LiveAsync"),
        // Writes: Viewers may not run analyses, viewing as someone never writes, and only the owner of a saved analysis
        // (or of its dataset, or an Admin) computes it again (B4: others would narrow it to their rows for everyone).
        new("RFM compute",                 [All,   Refused, Refused, Refused, Refused, Refused, Refused, Refused, Refused], "RfmService.ComputeAsync"),
        // L1: the clustering run's counts and profiles were computed over the owner's rows.
        new("Clustering result and profiles", [All, OwnOrWithheld, All, OwnOrWithheld, OwnOrWithheld, OwnOrWithheld, Refused, Refused, OwnOrWithheld], "ClusteringService.GetAsync"),
        new("Clustering history",          [All,   OwnOrWithheld, All, OwnOrWithheld, OwnOrWithheld, OwnOrWithheld, Refused, Refused, OwnOrWithheld], "ClusteringService.HistoryAsync"),
        // A churn run's validation, scores and lifecycle counts were computed over the owner's rows, as a clustering run's.
        new("Churn run result",            [All,   OwnOrWithheld, All, OwnOrWithheld, OwnOrWithheld, OwnOrWithheld, Refused, Refused, OwnOrWithheld], "ChurnService.GetAsync"),
        new("Churn run history",           [All,   OwnOrWithheld, All, OwnOrWithheld, OwnOrWithheld, OwnOrWithheld, Refused, Refused, OwnOrWithheld], "ChurnService.HistoryAsync"),
        // L3: RFM and cluster fields hold the owner's figures; under rules on the data they were computed from they are
        // neither offered nor queryable. Column rules on the customer list alone (every order seen) keep the RFM fields,
        // computed from the orders only, and withhold the cluster fields computed from the list's own columns.
        new("Derived analysis fields",     [All,   None,   All,    None,   Own,    None,   Refused,   Refused,   None],
            "PermissionPolicy.DescribeAsync", "CustomerAttributeStore.FieldsForAsync"),
        new("Rule builder values and fields", [All, Own,   All,    Own,    Own,    Own,    Refused,   Refused,   Own],
            "RuleBuilderService.ValuesAsync", "RuleBuilderService.OptionsAsync"),
        new("Query",                       [All,   Own,    All,    Own,    Own,    Own,    Refused,   Refused,   Own], "QueryService.RunAsync"),
        // Profiles of large live datasets: the same query over the source's first rows (an imported dataset is read whole).
        new("Query (sampled)",             [All,   Own,    All,    Own,    Own,    Own,    Refused,   Refused,   Own], "QueryService.RunSampledAsync"),
        // A personal access token acts as its user, rules and all (the REST API's endpoints run as its principal). Public
        // visitors and an Admin viewing as someone cannot make one, and the public links' account could not use one.
        new("Query with an access token",  [All,   Own,    All,    Own,    Own,    Own,    Refused,   Refused,   Refused],
            "QueryService.RunAsync", "AccessTokenService.CreateAsync", "AccessTokenValidator.ValidateAsync"),
        // A connection's source has no data rules (they apply to the dataset made from it): Analysts manage data sources.
        // Holdout marks on a member page hash the keys the user already sees (North rows for the North), and are off for
        // a masked key; the treated and held-out counts at the last refresh were counted over the refreshing user's rows,
        // withheld as the stored size is; setting the share is a write, as a refresh is.
        new("Segment holdout marks",       [All,   Own,    All,    Own,    Own,    Own,    Refused,   Refused,   Own], "SegmentHoldoutService.MarksAsync"),
        new("Segment holdout counts",      [All,   Withheld, All,  Withheld, Withheld, Withheld, Refused, Refused, Withheld], "SegmentHoldoutService.SummaryAsync"),
        new("Segment holdout setting",     [All,   Withheld, Refused, Refused, Refused, Refused, Refused, Refused, Refused], "SegmentHoldoutService.SetShareAsync"),
        // The lift report reads the segment's members and their orders through the query layer as the asking user.
        new("Lift report",                 [All,   Own,    All,    Own,    Own,    Own,    Refused,   Refused,   Own], "LiftService.RunAsync"),
        // Metrics are computed for whoever asks, through the query layer: a metric's values (alone or many at once, as the
        // alert checker reads them), the editor's preview and a tile showing the metric (a KPI and a line over the months)
        // are counted over the user's rows. Many at once leave out what one alone refuses.
        new("Metric values",               [All,   Own,    All,    Own,    Own,    Own,    Refused,   Refused,   Own], "MetricService.ValuesAsync", "MetricService.PreviewAsync",
            "MetricService.ValuesManyAsync", "MetricService.ValuesBatchAsync"),
        new("Metric tile",                 [All,   Own,    All,    Own,    Own,    Own,    Refused,   Refused,   Own], "TileDataService.LoadAsync"),
        // A metric measuring a column hidden from Viewers is refused to them, as a tile measuring it is.
        new("Metric over a hidden column", [All,   Own,    All,    Own,    Refused, Refused, Refused, Refused,   Refused],
            "MetricService.ValuesAsync", "MetricService.PreviewAsync", "TileDataService.LoadAsync", "MetricService.ValuesManyAsync",
            "MetricService.ValuesBatchAsync"),
        // Alerts are checked as their owner sees the data: each Analyst's own alert on the revenue reads their rows (its
        // recorded check, and the usual range drawn on the metric's chart); Viewers and visitors make no alerts, and
        // viewing as someone never writes.
        new("Alert check and bands",       [All,   Own,    All,    Own,    Refused, Refused, Refused, Refused, Refused],
            "AlertService.CheckNowAsync", "AlertService.ChecksAsync", "AlertService.BandsAsync"),
        // Someone else's alert: its checks (figures counted over the owner's rows) are not listed, checked or drawn for anyone else.
        new("Someone else's alert",        [All,   Refused, Refused, Refused, Refused, Refused, Refused, Refused, Refused],
            "AlertService.CheckNowAsync", "AlertService.ChecksAsync", "AlertService.BandsAsync"),
        // The owner's alert telling each kind of user: figures only to those who see the orders as the owner does (or all
        // of them); the others are told it fired, without figures. The public links' account is nobody to tell; an Admin
        // viewing as the North Viewer reads that Viewer's notices, as the Viewer has them.
        new("Alert recipient figures",     [All,   Withheld, All,  Withheld, All,   Withheld, Refused, Refused, Withheld],
            "AlertService.CheckNowAsync", "NotificationService.ListAsync"),
        // The lifetime-value analysis (fitted over the owner's rows): its figures only to those who see the purchases
        // whole (or as the owner did), withheld from the others; a link's visitor cannot read the purchases at all.
        new("Lifetime value result",       [All,   Withheld, All,  Withheld, All,   Withheld, Refused,   Refused,   Withheld], "LifetimeService.GetAsync"),
        // Its tiles show it as LifetimeService.GetAsync gives it to the viewer, so they are withheld exactly as the result is.
        new("CLV distribution tile",       [All,   Withheld, All,  Withheld, All,   Withheld, Refused,   Refused,   Withheld], "TileDataService.LoadAsync"),
        new("P(alive) matrix tile",        [All,   Withheld, All,  Withheld, All,   Withheld, Refused,   Refused,   Withheld], "TileDataService.LoadAsync"),
        // Survival results are kept per user: the tile shows each viewer the analysis they ran themselves (the owner's over
        // every row, the North Analyst's over the North's), and a notice to anyone who ran none, never the owner's curves.
        new("Survival curves tile",        [All,   Withheld, Withheld, Own, Withheld, Withheld, Refused, Refused,   Withheld], "TileDataService.LoadAsync"),
        new("Connection source preview",   [All,   All,    All,    All,    Refused, Refused, Refused, Refused, Refused], "ConnectionService.PreviewAsync"),
        new("Audit log (search, CSV)",     [Refused, Refused, Refused, Refused, Refused, Refused, Refused, Refused, Refused],
            "AuditLog.SearchAsync", "AuditExport.WriteCsvAsync", "AuditLog.ExportEntriesAsync"),
    ];

    /// <summary>
    /// Cells known to fail, with the hole that makes them fail, so a failing cell names its hole; remove the entry when
    /// the fix is merged. Empty: the holes the matrix was written against (L1, L4, L5, L6, and P — the public account
    /// reaching datasets outside its board — and R — a read-only segment share refreshing) are closed.
    /// </summary>
    public static readonly IReadOnlyDictionary<(string Surface, UserKind Kind), string> Open = Holes();

    private static Dictionary<(string, UserKind), string> Holes(params (string Hole, UserKind[] Kinds, string[] Surfaces)[] holes)
    {
        var open = new Dictionary<(string, UserKind), string>();
        foreach (var (hole, kinds, surfaces) in holes)
        {
            foreach (var surface in surfaces)
            {
                foreach (var kind in kinds)
                {
                    open[(surface, kind)] = hole;
                }
            }
        }
        return open;
    }

    /// <summary>
    /// Public Core methods the discovery rule finds that serve no customer data, each with the reason. Keep it short:
    /// a method that hands out rows or figures belongs in <see cref="Surfaces"/>. Internal types (QueryCompiler,
    /// RecipeCompiler, TileMeasures, LiveTableBuilder…) are not found: nothing outside Core can call them.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> NotDataSurfaces = new Dictionary<string, string>
    {
        // Engines and pure functions: they compute over what a checked service hands them and answer no user.
        ["ClusteringEngine.Assign"] = "assigns rows the clustering service loaded (through the query layer) to a saved model",
        ["ClusteringModel.Load"] = "reads a saved model from a stream",
        ["ClusteringModel.Save"] = "writes a model to a stream",
        ["QueryResult.Scalar"] = "reads a cell of a result the caller already has",
        ["TileRows.Dimension"] = "reads a dimension value out of a result the tile service already has",
        ["TileRows.Read"] = "shapes a result the tile service already has",
        ["TileRows.Sort"] = "sorts rows the tile service already has",
        ["TextEncodings.DetectAsync"] = "reads an uploaded file's bytes to guess its encoding (the uploader's own file)",
        ["TextEncodings.TranscodeToUtf8Async"] = "rewrites an uploaded file as UTF-8 (the uploader's own file)",
        ["UploadStore.SaveAsync"] = "stores an upload (reads a stream, serves nothing)",

        // Layers below the permission checks, used by the checked services above them (no page injects them).
        ["QueryExecutor.ExecuteAsync"] = "runs a query QueryService has authorized through PermissionPolicy",
        ["QueryService.CompileAsync"] = "the SQL of a spec, authorized exactly as QueryService.RunAsync; returns no rows",
        ["SegmentStore.OverlapAsync"] = "the stored members' store; SegmentService.CompareAsync checks and withholds before calling it",
    };
}
