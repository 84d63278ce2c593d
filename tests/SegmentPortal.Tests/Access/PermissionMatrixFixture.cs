using System.Security.Claims;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Alerts;
using SegmentPortal.Core.Analysis.Churn;
using SegmentPortal.Core.Analysis.Clustering;
using SegmentPortal.Core.Analysis.Lifetime;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Analysis.Survival;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Metrics;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Core.Users;
using SegmentPortal.Tests.Import;
using static SegmentPortal.Tests.Access.PermissionFixture;

namespace SegmentPortal.Tests.Access;

/// <summary>The nine kinds of user of the permission matrix (<see cref="PermissionMatrix"/>).</summary>
public enum UserKind
{
    /// <summary>Owns the datasets, the boards, the segments, the RFM analysis and the clustering run; a rule without conditions (all rows, unrestricted).</summary>
    Owner,

    /// <summary>An Analyst the boards and segments are shared with as Editor, with the <c>region = {user.Region}</c> rule (North): sharing never lifts a row rule.</summary>
    EditorShare,

    /// <summary>An Analyst the boards and segments are shared with as Viewer, with an all-rows rule (unrestricted data, read-only items).</summary>
    ViewShare,

    /// <summary>The North Analyst: North rows only, every column as is.</summary>
    RowRuled,

    /// <summary>A Viewer with an all-rows rule of their own: every row, and the Viewers' column rules (e-mail masked, phone hidden, credit limit hashed).</summary>
    ColumnRuled,

    /// <summary>The North Viewer: North rows, e-mail masked, phone hidden, credit limit hashed.</summary>
    Viewer,

    /// <summary>A visitor of a valid public link to the main board: the public account (a Viewer) with Region = South.</summary>
    PublicLink,

    /// <summary>A visitor whose public link was revoked while their tab was open (they still hold the board as it was).</summary>
    RevokedLink,

    /// <summary>An Admin viewing the portal as the North Viewer.</summary>
    ViewAs,
}

/// <summary>
/// <see cref="PermissionFixture"/>'s customers and orders, plus what the matrix needs: the users of every
/// <see cref="UserKind"/>, two stored boards (the main one with charts, a table and a region filter; one of saved
/// analyses), two segments, the owner's RFM analysis and clustering run, two public links (one revoked after it
/// was opened), the owner's metrics: revenue over the orders, and revenue over the scratch orders whose amount is
/// hidden from Viewers, each on a board of metric tiles, and the owner's alert on the revenue.
/// </summary>
public sealed class PermissionMatrixFixture : IAsyncLifetime
{
    public PermissionFixture Data { get; } = new();

    public AppUser Editor { get; private set; } = null!;

    public AppUser ViewSharer { get; private set; } = null!;

    public AppUser MaskedViewer { get; private set; } = null!;

    /// <summary>A copy of the orders (not related to the customers) on which every kind may run RFM without touching the owner's saved analysis.</summary>
    public Dataset ScratchOrders { get; private set; } = null!;

    public int MainBoard { get; private set; }

    public int AnalysisBoard { get; private set; }

    /// <summary>The owner's metric: the sum of the orders' amount, by month of the order date.</summary>
    public int RevenueMetric { get; private set; }

    /// <summary>The same over <see cref="ScratchOrders"/>, whose amount column is hidden from Viewers.</summary>
    public int HiddenColumnMetric { get; private set; }

    /// <summary>Tiles showing the metrics: "kpi" and "trend" (a line over the months) of revenue, "hidden" a KPI of the other.</summary>
    public int MetricBoard { get; private set; }

    /// <summary>
    /// Purchases of 45 customers of their own (North, South, East in turn) on which the owner ran the lifetime-value
    /// analysis; row rules as <see cref="ScratchOrders"/>'s, no column rules.
    /// </summary>
    public Dataset LifetimeOrders { get; private set; } = null!;

    /// <summary>The lifetime-value purchases: customer, day, amount and region of each.</summary>
    public static IReadOnlyList<(int Customer, DateOnly Day, int Amount, string Region)> LifetimePurchases { get; } = MakeLifetimePurchases();

    private static List<(int, DateOnly, int, string)> MakeLifetimePurchases()
    {
        string[] regions = ["North", "South", "East"];
        var purchases = new List<(int, DateOnly, int, string)>();
        for (var i = 0; i < 45; i++)
        {
            var first = new DateOnly(2023, 1, 2).AddDays(i * 4);
            var gap = 12 + i % 7 * 9;
            // Some stop after a few purchases, some keep buying until the end.
            var count = 1 + (i % 5 == 0 ? 0 : i % 9);
            for (var k = 0; k < count && first.AddDays(k * gap) <= PermissionFixture.Today; k++)
            {
                purchases.Add((401 + i, first.AddDays(k * gap), 20 + i % 11 * 7 + k * 3, regions[i % 3]));
            }
        }
        return purchases;
    }

    /// <summary>The owner's alert on <see cref="RevenueMetric"/> (<see cref="UnusualRevenue"/>), telling only the owner.</summary>
    public int OwnersAlert { get; private set; }

    /// <summary>The matrix's alert condition: revenue outside the usual range of the months before (median ± 3 robust deviations).</summary>
    public static AlertCondition UnusualRevenue { get; } = new() { Kind = AlertConditionKind.Unusual, Method = UnusualMethod.MedianMad };

    public static MetricDefinition RevenueDefinition(int datasetId, string name = "Revenue") => new()
    {
        Name = name,
        DatasetId = datasetId,
        Measure = new MetricMeasure(MetricMeasureKind.Sum, "amount"),
        TimeColumn = "order_date",
        Grain = DateBucket.Month,
    };

    public int Segment { get; private set; }

    public int OtherSegment { get; private set; }

    /// <summary>A segment that the matrix's refresh row refreshes (so the stored sizes of <see cref="Segment"/> stay the owner's).</summary>
    public int RefreshedSegment { get; private set; }

    /// <summary>A SQLite connection (made by the Admin) whose <c>customers</c> table holds the customers.</summary>
    public int Connection { get; private set; }

    /// <summary>The holdout of <see cref="Segment"/>.</summary>
    public const double HoldoutShare = 0.5;

    public const string HoldoutSalt = "matrix-0";

    /// <summary>The owner's refresh of <see cref="Segment"/>.</summary>
    public int SegmentSnapshotId { get; private set; }

    public int ClusteringRun { get; private set; }

    /// <summary>The owner's completed churn run (see <see cref="StoreChurnRunAsync"/>).</summary>
    public int ChurnRun { get; private set; }

    public ClaimsPrincipal PublicVisitor { get; private set; } = null!;

    public ClaimsPrincipal RevokedVisitor { get; private set; } = null!;

    /// <summary>The main board as the revoked link's visitor loaded it before the link was revoked (their open tab).</summary>
    public DashboardView RevokedVisitorsBoard { get; private set; } = null!;

    public ClaimsPrincipal ViewingAsNorthViewer { get; private set; } = null!;

    /// <summary>The portal's key for hashed columns.</summary>
    public string HashKey { get; private set; } = null!;

    private IHostedService[] _hosted = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        await Data.InitializeAsync();
        var h = Data.Harness;
        // The job runner, for the clustering run.
        _hosted = h.Services.GetServices<IHostedService>().ToArray();
        foreach (var service in _hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }
        Editor = await h.CreateUserAsync("editor@example.com", Password, Roles.Analyst);
        ViewSharer = await h.CreateUserAsync("view.share@example.com", Password, Roles.Analyst);
        MaskedViewer = await h.CreateUserAsync("masked@example.com", Password, Roles.Viewer);

        Data.AsOwner();
        ScratchOrders = await h.ImportTextAsync("scratch-orders.csv", OrdersCsv);
        ScratchOrders = await h.WithAsync<DatasetSchemaService, Dataset>(s => s.SaveColumnsAsync(ScratchOrders.Id,
            DatasetRebuilder.SettingsOf(ScratchOrders).Select(c => c with
            {
                Role = c.Name switch
                {
                    "order_id" => FieldRole.OrderId,
                    "customer_id" => FieldRole.CustomerId,
                    "order_date" => FieldRole.EventDate,
                    "amount" => FieldRole.Amount,
                    "category" or "region" => FieldRole.Dimension,
                    _ => FieldRole.None,
                },
            }).ToList(), Ct));
        await h.WithAsync<DatasetSharing>(s => s.SetAsync(ScratchOrders.Id, [Roles.Viewer, Roles.Analyst], [], Ct));

        LifetimeOrders = await h.ImportTextAsync("lifetime-orders.csv", "customer_id,order_date,amount,region\n" + string.Concat(
            LifetimePurchases.Select(p => FormattableString.Invariant($"{p.Customer},{p.Day:yyyy-MM-dd},{p.Amount},{p.Region}\n"))));
        LifetimeOrders = await h.SetRolesAsync(LifetimeOrders, new()
        {
            ["customer_id"] = FieldRole.CustomerId, ["order_date"] = FieldRole.EventDate, ["amount"] = FieldRole.Amount, ["region"] = FieldRole.Dimension,
        });
        await h.WithAsync<DatasetSharing>(s => s.SetAsync(LifetimeOrders.Id, [Roles.Viewer, Roles.Analyst], [], Ct));

        await using (var db = await h.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            // A rule without conditions is "all rows" and leaves its user unrestricted: the owner and the view share see
            // the data as it is, so the stored figures are theirs to see.
            var allRows = new RuleTree { Root = new RuleGroup() }.ToJson();
            foreach (var rule in await db.RowRules.Where(r => r.UserId == Data.Owner.Id).ToListAsync(Ct))
            {
                rule.RuleJson = allRows;
            }
            // Viewers see the credit limit as a keyed hash (equal values stay equal) instead of not at all.
            (await db.ColumnRules.SingleAsync(r => r.DatasetId == Data.Customers.Id && r.Column == "credit_limit", Ct)).Treatment = ColumnTreatment.Hashed;
            db.UserAttributes.Add(new UserAttribute { UserId = Editor.Id, Name = "Region", Value = "North" });
            foreach (var dataset in new[] { Data.Customers.Id, Data.Orders.Id })
            {
                db.RowRules.AddRange(
                    new RowRule { DatasetId = dataset, UserId = Editor.Id, RuleJson = RegionOfUser() },
                    new RowRule { DatasetId = dataset, UserId = ViewSharer.Id, RuleJson = allRows },
                    new RowRule { DatasetId = dataset, UserId = MaskedViewer.Id, RuleJson = allRows });
            }
            db.RowRules.AddRange(
                new RowRule { DatasetId = ScratchOrders.Id, Role = Roles.Viewer, RuleJson = RegionOfUser() },
                new RowRule { DatasetId = ScratchOrders.Id, UserId = Data.NorthAnalyst.Id, RuleJson = RegionOfUser() },
                new RowRule { DatasetId = ScratchOrders.Id, UserId = Editor.Id, RuleJson = RegionOfUser() },
                new RowRule { DatasetId = ScratchOrders.Id, UserId = Data.Owner.Id, RuleJson = allRows },
                new RowRule { DatasetId = ScratchOrders.Id, UserId = ViewSharer.Id, RuleJson = allRows },
                new RowRule { DatasetId = ScratchOrders.Id, UserId = MaskedViewer.Id, RuleJson = allRows });
            db.RowRules.AddRange(
                new RowRule { DatasetId = LifetimeOrders.Id, Role = Roles.Viewer, RuleJson = RegionOfUser() },
                new RowRule { DatasetId = LifetimeOrders.Id, UserId = Data.NorthAnalyst.Id, RuleJson = RegionOfUser() },
                new RowRule { DatasetId = LifetimeOrders.Id, UserId = Editor.Id, RuleJson = RegionOfUser() },
                new RowRule { DatasetId = LifetimeOrders.Id, UserId = Data.Owner.Id, RuleJson = allRows },
                new RowRule { DatasetId = LifetimeOrders.Id, UserId = ViewSharer.Id, RuleJson = allRows },
                new RowRule { DatasetId = LifetimeOrders.Id, UserId = MaskedViewer.Id, RuleJson = allRows });
            // The scratch copy's amount is hidden from Viewers: a metric (or a tile) measuring it is refused to them.
            db.ColumnRules.Add(new ColumnRule { DatasetId = ScratchOrders.Id, Column = "amount", Role = Roles.Viewer, Treatment = ColumnTreatment.Hidden });
            await db.SaveChangesAsync(Ct);
        }

        // The owner's saved analyses: RFM over the orders (its fields appear on the customers) and a clustering run.
        await h.WithAsync<RfmService, RfmView>(s => s.ComputeAsync(Data.Orders.Id, new RfmInput { ReferenceDate = Today }, RfmSettings.Default, Ct));
        // The scratch copy's analysis is the owner's too, so "RFM compute" asks every other kind to compute it again.
        await h.WithAsync<RfmService, RfmView>(s => s.ComputeAsync(ScratchOrders.Id, new RfmInput { ReferenceDate = Today }, RfmSettings.Default, Ct));
        await RunLifetimeValueAsync();
        await RunSurvivalAsync();
        var features = await h.WithAsync<ClusteringService, IReadOnlyList<FeatureOption>>(s => s.FeaturesAsync(Data.Customers.Id, Ct));
        ClusteringRun = await RunClusteringAsync(new ClusteringRequest
        {
            Name = "Spend",
            DatasetId = Data.Customers.Id,
            Features =
            [
                features.Single(o => o.Feature.Measure == CustomerMeasure.OrderCount).Feature,
                features.Single(o => o.Feature.Measure == CustomerMeasure.TotalAmount).Feature,
            ],
            K = 2,
        });
        ChurnRun = await StoreChurnRunAsync();

        var everyCity = new RuleTree { Root = new RuleGroup { Children = [new FieldCondition { Field = "city", Operator = RuleOperator.IsNotEmpty }] } };
        var everyName = new RuleTree { Root = new RuleGroup { Children = [new FieldCondition { Field = "name", Operator = RuleOperator.IsNotEmpty }] } };
        Segment = await h.WithAsync<SegmentService, int>(s => s.CreateAsync(new SegmentDraft("Every city", Data.Customers.Id, everyCity), Ct));
        OtherSegment = await h.WithAsync<SegmentService, int>(s => s.CreateAsync(new SegmentDraft("Every name", Data.Customers.Id, everyName), Ct));
        RefreshedSegment = await h.WithAsync<SegmentService, int>(s => s.CreateAsync(new SegmentDraft("Refreshed by others", Data.Customers.Id, everyCity), Ct));
        // Half of "Every city" held out, with a fixed salt: customers 1, 2 and 4 (PermissionMatrixTableTests.HeldOut).
        await using (var holdoutDb = await h.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            var segment = await holdoutDb.Segments.SingleAsync(s => s.Id == Segment, Ct);
            segment.HoldoutShare = HoldoutShare;
            segment.HoldoutSalt = HoldoutSalt;
            await holdoutDb.SaveChangesAsync(Ct);
        }
        // Saving a segment counts it: one snapshot each, over the owner's rows.
        SegmentSnapshotId = (await h.WithAsync<SegmentService, IReadOnlyList<SegmentSnapshot>>(s => s.HistoryAsync(Segment, Ct))).Single().Id;

        MainBoard = await h.WithAsync<DashboardService, int>(s => s.CreateAsync("Regions", cancellationToken: Ct));
        await h.WithAsync<DashboardService, DashboardView>(s => s.AddTileAsync(MainBoard,
            Chart("byRegion", TileType.Bar, Data.Orders.Id, ["region"], new TileMeasure(TileMeasureKind.Sum, "amount")) with { Title = "By region" }, cancellationToken: Ct));
        await h.WithAsync<DashboardService, DashboardView>(s => s.AddTileAsync(MainBoard,
            Chart("byCategory", TileType.Bar, Data.Orders.Id, ["category"], new TileMeasure(TileMeasureKind.Sum, "amount")) with { Title = "By category" }, cancellationToken: Ct));
        await h.WithAsync<DashboardService, DashboardView>(s => s.AddTileAsync(MainBoard,
            Chart("people", TileType.Table, Data.Customers.Id, ["id", "name", "email"]) with { Title = "People" }, cancellationToken: Ct));
        await h.WithAsync<DashboardService, DashboardView>(s => s.SetFiltersAsync(MainBoard, [new CategoryFilter("region", [])], Ct));
        await h.WithAsync<DashboardService, DashboardView>(s => s.SetViewersMayExportAsync(MainBoard, true, Ct));

        AnalysisBoard = await h.WithAsync<DashboardService, int>(s => s.CreateAsync("Analyses", cancellationToken: Ct));
        await h.WithAsync<DashboardService, DashboardView>(s => s.AddTileAsync(AnalysisBoard,
            new TileDefinition { Id = "size", Type = TileType.SegmentSize, SegmentId = Segment, Title = "Size" }, cancellationToken: Ct));
        await h.WithAsync<DashboardService, DashboardView>(s => s.AddTileAsync(AnalysisBoard,
            new TileDefinition { Id = "rfm", Type = TileType.RfmGrid, SourceId = Data.Orders.Id, Title = "RFM" }, cancellationToken: Ct));
        await h.WithAsync<DashboardService, DashboardView>(s => s.AddTileAsync(AnalysisBoard,
            new TileDefinition { Id = "clusters", Type = TileType.ClusterProfile, SourceId = ClusteringRun, Title = "Clusters" }, cancellationToken: Ct));
        await h.WithAsync<DashboardService, DashboardView>(s => s.AddTileAsync(AnalysisBoard,
            new TileDefinition { Id = "lifecycle", Type = TileType.LifecycleStages, SourceId = ChurnRun, Title = "Lifecycle" }, cancellationToken: Ct));
        foreach (var tile in new[]
        {
            new TileDefinition { Id = "clv", Type = TileType.ClvDistribution, SourceId = LifetimeOrders.Id, Title = "CLV" },
            new TileDefinition { Id = "alive", Type = TileType.AliveMatrix, SourceId = LifetimeOrders.Id, Title = "P(alive)" },
            new TileDefinition { Id = "survival", Type = TileType.SurvivalCurves, SourceId = LifetimeOrders.Id, Title = "Survival" },
        })
        {
            await h.WithAsync<DashboardService, DashboardView>(s => s.AddTileAsync(AnalysisBoard, tile, cancellationToken: Ct));
        }

        RevenueMetric = await h.WithAsync<MetricService, int>(s => s.CreateAsync(RevenueDefinition(Data.Orders.Id), Ct));
        HiddenColumnMetric = await h.WithAsync<MetricService, int>(s => s.CreateAsync(RevenueDefinition(ScratchOrders.Id, "Scratch revenue"), Ct));
        MetricBoard = await h.WithAsync<DashboardService, int>(s => s.CreateAsync("Metrics", cancellationToken: Ct));
        foreach (var tile in new[]
        {
            new TileDefinition { Id = "kpi", Type = TileType.Kpi, Title = "Revenue", MetricId = RevenueMetric },
            new TileDefinition { Id = "trend", Type = TileType.Line, Title = "Revenue by month", MetricId = RevenueMetric },
            new TileDefinition { Id = "hidden", Type = TileType.Kpi, Title = "Scratch revenue", MetricId = HiddenColumnMetric },
        })
        {
            await h.WithAsync<DashboardService, DashboardView>(s => s.AddTileAsync(MetricBoard, tile, cancellationToken: Ct));
        }

        OwnersAlert = await h.WithAsync<AlertService, int>(s => s.CreateAsync(new AlertDraft
        {
            Name = "Owner's revenue watch",
            Subject = AlertSubject.Metric,
            MetricId = RevenueMetric,
            Condition = UnusualRevenue,
            Recipients = new AlertRecipients { UserIds = [Data.Owner.Id], Email = false },
        }, Ct));

        foreach (var (item, id) in new[] { (SharedItem.Dashboard, MainBoard), (SharedItem.Dashboard, AnalysisBoard), (SharedItem.Dashboard, MetricBoard), (SharedItem.Segment, Segment), (SharedItem.Segment, OtherSegment), (SharedItem.Segment, RefreshedSegment) })
        {
            await h.WithAsync<SharingService>(async s =>
            {
                await s.ShareAsync(item, id, null, Roles.Viewer, ShareLevel.Viewer, Ct);
                await s.ShareAsync(item, id, Data.NorthAnalyst.Id, null, ShareLevel.Viewer, Ct);
                await s.ShareAsync(item, id, ViewSharer.Id, null, ShareLevel.Viewer, Ct);
                await s.ShareAsync(item, id, Editor.Id, null, ShareLevel.Editor, Ct);
            });
        }

        // Public links to the main board: the public account is a Viewer of the South.
        Data.AsAdmin();
        var file = Path.Combine(h.Services.GetRequiredService<SqliteSourceFolder>().FolderPath, "crm.db");
        await using (var source = new SqliteConnection($"Data Source={file};Pooling=False"))
        {
            await source.OpenAsync(Ct);
            await using (var create = source.CreateCommand())
            {
                create.CommandText = "CREATE TABLE customers (id INTEGER, name TEXT, region TEXT, email TEXT, phone INTEGER, credit_limit INTEGER, city TEXT)";
                await create.ExecuteNonQueryAsync(Ct);
            }
            foreach (var values in CustomersCsv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(line => line.Split(',')))
            {
                await using var insert = source.CreateCommand();
                insert.CommandText = "INSERT INTO customers VALUES ($id, $name, $region, $email, $phone, $credit, $city)";
                string[] names = ["$id", "$name", "$region", "$email", "$phone", "$credit", "$city"];
                for (var i = 0; i < names.Length; i++)
                {
                    insert.Parameters.AddWithValue(names[i], i is 0 or 4 or 5 ? long.Parse(values[i], System.Globalization.CultureInfo.InvariantCulture) : values[i]);
                }
                await insert.ExecuteNonQueryAsync(Ct);
            }
        }
        Connection = await h.WithAsync<ConnectionService, int>(s =>
            s.CreateAsync(new ConnectionInput { Name = "CRM", Kind = ConnectionKind.Sqlite, Database = "crm.db" }, Ct));
        await h.WithAsync<PublicLinkService>(s => s.SetEnabledAsync(true, Ct));
        Data.AsOwner();
        var link = await h.WithAsync<PublicLinkService, NewPublicLink>(s => s.CreateAsync(MainBoard, 7, Ct));
        var revoked = await h.WithAsync<PublicLinkService, NewPublicLink>(s => s.CreateAsync(MainBoard, 7, Ct));
        PublicVisitor = (await h.WithAsync<PublicLinkService, PublicVisit?>(s => s.OpenAsync(link.Token, countUse: true, cancellationToken: Ct)))!.Principal;
        RevokedVisitor = (await h.WithAsync<PublicLinkService, PublicVisit?>(s => s.OpenAsync(revoked.Token, countUse: true, cancellationToken: Ct)))!.Principal;
        Data.AsAdmin();
        await h.WithAsync<DataPermissionService>(s => s.SetAttributesAsync(PublicVisitor.UserId()!, new Dictionary<string, string> { ["Region"] = "South" }, Ct));
        h.CurrentUser.Principal = RevokedVisitor;
        RevokedVisitorsBoard = await h.WithAsync<DashboardService, DashboardView>(s => s.GetAsync(MainBoard, Ct));
        Data.AsOwner();
        await h.WithAsync<PublicLinkService>(s => s.RevokeAsync(revoked.Link.Id, Ct));

        HashKey = await h.WithAsync<PortalSettings, string>(s => s.HashKeyAsync(Ct));
        Data.AsAdmin();
        await using (var scope = h.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ViewAsService>().StartAsync(Data.NorthViewer.Id, Ct);
            ViewingAsNorthViewer = scope.ServiceProvider.GetRequiredService<ViewAsState>().Principal!;
        }
        Data.AsOwner();
    }

    /// <summary>Makes the kind of user the current user.</summary>
    public void SignIn(UserKind kind)
    {
        switch (kind)
        {
            case UserKind.Owner: Data.AsOwner(); break;
            case UserKind.EditorShare: Data.SignIn(Editor, Roles.Analyst); break;
            case UserKind.ViewShare: Data.SignIn(ViewSharer, Roles.Analyst); break;
            case UserKind.RowRuled: Data.AsNorthAnalyst(); break;
            case UserKind.ColumnRuled: Data.SignIn(MaskedViewer, Roles.Viewer); break;
            case UserKind.Viewer: Data.AsNorthViewer(); break;
            case UserKind.PublicLink: Data.Harness.CurrentUser.Principal = PublicVisitor; break;
            case UserKind.RevokedLink: Data.Harness.CurrentUser.Principal = RevokedVisitor; break;
            case UserKind.ViewAs: Data.Harness.CurrentUser.Principal = ViewingAsNorthViewer; break;
            default: throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    /// <summary>The owner's lifetime-value analysis of <see cref="LifetimeOrders"/> (weeks, the last quarter held out), run to its end.</summary>
    private async Task RunLifetimeValueAsync()
    {
        var h = Data.Harness;
        var queue = h.Services.GetRequiredService<JobQueue>();
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Guid? id = null;
        void OnChanged(JobSnapshot job)
        {
            if (job.Id == id && !job.IsActive)
            {
                finished.TrySetResult();
            }
        }
        queue.Changed += OnChanged;
        try
        {
            var job = await h.WithAsync<LifetimeService, JobSnapshot>(s => s.StartAsync(LifetimeOrders.Id, new LifetimeSettings(), Ct));
            id = job.Id;
            if (queue.Get(job.Id) is { IsActive: false })
            {
                finished.TrySetResult();
            }
            await finished.Task.WaitAsync(TimeSpan.FromMinutes(5), Ct);
        }
        finally
        {
            queue.Changed -= OnChanged;
        }
        var view = await h.WithAsync<LifetimeService, LifetimeView>(s => s.GetAsync(LifetimeOrders.Id, Ct));
        Assert.True(view.Result is not null, $"The lifetime-value analysis did not finish: {view.Error}");
    }

    /// <summary>
    /// Survival analyses of <see cref="LifetimeOrders"/> by region (churn after 60 days without a purchase), kept per user:
    /// the owner's over every row and the North Analyst's over the North's. Nobody else has one.
    /// </summary>
    private async Task RunSurvivalAsync()
    {
        var request = new SurvivalRequest
        {
            DatasetId = LifetimeOrders.Id,
            ChurnDays = 60,
            Grouping = new SurvivalGrouping(SurvivalGroupingKind.Field, "region", LifetimeOrders.Id),
        };
        foreach (var signIn in new Action[] { Data.AsOwner, Data.AsNorthAnalyst })
        {
            signIn();
            await Data.Harness.WithAsync<SurvivalService, SurvivalResult>(s => s.ComputeAsync(request, null, Ct));
        }
        Data.AsOwner();
    }

    /// <summary>
    /// The owner's churn run as the trainer stores it when it completes: the matrix's five customers are too few to
    /// train on (a run needs ten at each cut-off), so the stored result is written here, with the owner's view of the
    /// inputs as its <c>ComputedOver</c> and every customer with an order scored, as a real run over the owner's rows.
    /// </summary>
    private async Task<int> StoreChurnRunAsync()
    {
        var h = Data.Harness;
        var factory = h.Services.GetRequiredService<IPortalDbFactory>();
        var scored = await h.WithAsync<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec
        {
            DatasetId = Data.Orders.Id, Measures = [new Measure(MeasureKind.Customers, "n")],
        }, Ct));
        var customers = Convert.ToInt32(scored.Rows[0][0], System.Globalization.CultureInfo.InvariantCulture);
        var request = new ChurnRequest { Name = "Leavers", DatasetId = Data.Customers.Id };
        var run = new ChurnRun
        {
            Name = request.Name, DatasetId = request.DatasetId, SettingsJson = System.Text.Json.JsonSerializer.Serialize(request, ChurnService.Json),
            Status = ChurnRunStatus.Completed, OwnerId = Data.Owner.Id, CreatedAt = DateTimeOffset.UtcNow, CompletedAt = DateTimeOffset.UtcNow,
            Customers = customers,
        };
        await using (var db = await factory.CreateAsync(Ct))
        {
            db.ChurnRuns.Add(run);
            await db.SaveChangesAsync(Ct);
        }
        var inputs = await h.WithAsync<SegmentPortal.Core.Analysis.CustomerAttributeStore, IReadOnlyCollection<int>>(s => s.InputsAsync(SegmentPortal.Core.Analysis.AttributeSetKind.Churn, run.Id, run.DatasetId, Ct));
        var computedOver = await h.WithAsync<Authorizer, string?>(a => a.ViewKeyAsync(inputs, Ct));
        var lifecycle = new LifecycleThresholds(10, 10, 30, 60);
        var settings = new ChurnSettings(30, Today.AddDays(-60), Today.AddDays(-30), Today, 0.5, lifecycle);
        var scoring = new ChurnScoring(Today, customers, customers, [customers, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            new Dictionary<string, int> { ["low"] = customers, ["medium"] = 0, ["high"] = 0 }, Lifecycle.Stages.ToDictionary(x => x, x => x == Lifecycle.Lost ? customers : 0));
        var metrics = new ChurnMetrics(customers, 0.5, customers, 0.5, 0.8, 0.9, 0.5, 1, 0.5, 1, [], [], []);
        await using (var db = await factory.CreateAsync(Ct))
        {
            var stored = await db.ChurnRuns.FirstAsync(r => r.Id == run.Id, Ct);
            stored.MetricsJson = System.Text.Json.JsonSerializer.Serialize(metrics, ChurnService.Json);
            stored.ResultJson = System.Text.Json.JsonSerializer.Serialize(new StoredChurnResult(settings, new ChurnFeatureSet(true, null, [], [], [], 30), scoring, computedOver), ChurnService.Json);
            await db.SaveChangesAsync(Ct);
        }
        return run.Id;
    }

    private async Task<int> RunClusteringAsync(ClusteringRequest request)
    {
        var h = Data.Harness;
        var queue = h.Services.GetRequiredService<JobQueue>();
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var id = 0;
        void OnChanged(JobSnapshot job)
        {
            if (id != 0 && job.Key == ClusteringService.JobKey(id) && !job.IsActive)
            {
                finished.TrySetResult();
            }
        }
        queue.Changed += OnChanged;
        try
        {
            id = await h.WithAsync<ClusteringService, int>(s => s.StartAsync(request, Ct));
            if (queue.Latest(ClusteringService.JobKey(id)) is { IsActive: false })
            {
                finished.TrySetResult();
            }
            await finished.Task.WaitAsync(TimeSpan.FromMinutes(5), Ct);
        }
        finally
        {
            queue.Changed -= OnChanged;
        }
        var view = await h.WithAsync<ClusteringService, ClusteringRunView>(s => s.GetAsync(id, Ct));
        Assert.True(view.Explanation is not null, $"The clustering run did not finish: {view.Summary.Error}");
        return id;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var service in _hosted)
        {
            await service.StopAsync(CancellationToken.None);
        }
        await Data.DisposeAsync();
    }
}
