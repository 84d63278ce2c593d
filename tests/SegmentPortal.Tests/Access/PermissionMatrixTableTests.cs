using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Activation;
using SegmentPortal.Core.Alerts;
using SegmentPortal.Core;
using SegmentPortal.Core.Analysis;
using SegmentPortal.Core.Analysis.Churn;
using SegmentPortal.Core.Analysis.Clustering;
using SegmentPortal.Core.Analysis.Lift;
using SegmentPortal.Core.Analysis.Lifetime;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Delivery;
using SegmentPortal.Core.Exports;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Metrics;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Core.Users;
using static SegmentPortal.Tests.Access.PermissionFixture;

namespace SegmentPortal.Tests.Access;

/// <summary>
/// Runs every cell of <see cref="PermissionMatrix.Surfaces"/> as the kind of user of its column, and checks that the
/// table names every Core method that serves customer data.
/// </summary>
public sealed class PermissionMatrixTableTests(PermissionMatrixFixture f) : IClassFixture<PermissionMatrixFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // ----- the data of PermissionFixture, to work out what each kind should see -----

    private sealed record Customer(int Id, string Name, string Region, string Email, string Phone, int Credit, string City);

    private sealed record Order(int Id, int Customer, string Category, string Region, int Amount);

    private static readonly Customer[] Customers =
    [
        new(1, "Ann", "North", "ann@example.com", "13812345678", 1000, "Oslo"),
        new(2, "Bo", "South", "bo@example.com", "13987654321", 2000, "Rome"),
        new(3, "Cy", "North", "cy@example.com", "13711112222", 3000, "Bergen"),
        new(4, "Di", "East", "di@example.com", "13633334444", 4000, "Tokyo"),
        new(5, "Ed", "South", "ed@example.com", "13555556666", 5000, "Madrid"),
    ];

    private static readonly Order[] Orders =
    [
        new(101, 1, "Toys", "North", 500), new(102, 1, "Books", "North", 700), new(103, 2, "Toys", "South", 50),
        new(104, 2, "Garden", "South", 30), new(105, 3, "Electronics", "North", 2000), new(106, 4, "Books", "East", 100),
        new(107, 5, "Garden", "South", 80),
    ];

    /// <summary>The orders' dates, for the metrics (by month of the order date).</summary>
    private static readonly Dictionary<int, DateOnly> OrderDates = new()
    {
        [101] = new(2024, 6, 1), [102] = new(2024, 5, 20), [103] = new(2024, 2, 10), [104] = new(2023, 11, 5),
        [105] = new(2024, 6, 14), [106] = new(2023, 1, 1), [107] = new(2024, 3, 3),
    };

    /// <summary>
    /// What a kind of user may see: the rows of some regions, and every column as is or under the Viewers' column rules
    /// (e-mail masked, phone hidden, credit limit hashed with <paramref name="HashKey"/>).
    /// </summary>
    private sealed record Audience(IReadOnlySet<string> Regions, bool ColumnRules, string HashKey = "")
    {
        public static readonly Audience Everything = new(new HashSet<string> { "North", "South", "East" }, false);

        public IEnumerable<Customer> Customers => PermissionMatrixTableTests.Customers.Where(c => Regions.Contains(c.Region));

        public IEnumerable<Order> Orders => PermissionMatrixTableTests.Orders.Where(o => Regions.Contains(o.Region));

        public string Email(Customer c) => ColumnRules ? $"{c.Email[0]}***{c.Email[c.Email.IndexOf('@', StringComparison.Ordinal)..]}" : c.Email;

        /// <summary>The warehouse's keyed hash: the first 16 hex digits of md5(key || value as text).</summary>
        public string Credit(Customer c) => ColumnRules
            ? Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(HashKey + c.Credit.ToString(CultureInfo.InvariantCulture))))[..16]
            : c.Credit.ToString(CultureInfo.InvariantCulture);

        public string[] CustomerColumns => ColumnRules ? ["id", "name", "region", "email", "credit_limit", "city"] : ["id", "name", "region", "email", "phone", "credit_limit", "city"];

        public string CustomerRow(Customer c, char separator = '|') => string.Join(separator, ColumnRules
            ? new[] { $"{c.Id}", c.Name, c.Region, Email(c), Credit(c), c.City }
            : [$"{c.Id}", c.Name, c.Region, Email(c), c.Phone, Credit(c), c.City]);
    }

    private Audience AudienceOf(UserKind kind) => kind switch
    {
        UserKind.Owner or UserKind.ViewShare => Audience.Everything,
        UserKind.EditorShare or UserKind.RowRuled => new(new HashSet<string> { "North" }, false),
        UserKind.ColumnRuled => Audience.Everything with { ColumnRules = true, HashKey = f.HashKey },
        UserKind.PublicLink or UserKind.RevokedLink => new(new HashSet<string> { "South" }, true, f.HashKey),
        _ => new(new HashSet<string> { "North" }, true, f.HashKey),
    };

    /// <summary>What a surface showed: its rows or figures as text lines, and whether it withheld its stored figures.</summary>
    private sealed record Seen(IReadOnlyList<string> Lines, bool Withheld = false);

    public static TheoryData<string, UserKind> Cells()
    {
        var data = new TheoryData<string, UserKind>();
        foreach (var surface in PermissionMatrix.Surfaces)
        {
            foreach (var kind in Enum.GetValues<UserKind>())
            {
                data.Add(surface.Name, kind);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public async Task Cell(string surface, UserKind kind)
    {
        var row = PermissionMatrix.Surfaces.Single(s => s.Name == surface);
        var expected = row[kind];
        f.SignIn(kind);
        Seen seen;
        try
        {
            seen = await RunAsync(surface, kind);
        }
        catch (PortalException e) when (expected != Outcome.Refused && PermissionMatrix.Open.TryGetValue((surface, kind), out var hole))
        {
            throw new Xunit.Sdk.XunitException($"[open hole {hole}] {kind} was refused {surface}: {e.Message}");
        }
        catch (PortalException e) when (expected == Outcome.Refused)
        {
            if (AdminOnly.Contains(surface))
            {
                Assert.IsType<PermissionDeniedException>(e);
            }
            return;
        }
        finally
        {
            f.Data.AsOwner();
        }

        try
        {
            Check(surface, kind, expected, seen);
        }
        catch (Xunit.Sdk.XunitException e) when (PermissionMatrix.Open.TryGetValue((surface, kind), out var hole))
        {
            throw new Xunit.Sdk.XunitException($"[open hole {hole}] {e.Message}");
        }
    }

    private void Check(string surface, UserKind kind, Outcome expected, Seen seen)
    {
        var everything = Expected(surface, Audience.Everything);
        var own = Expected(surface, AudienceOf(kind));
        switch (expected)
        {
            case Outcome.Refused:
                Assert.Fail($"{kind} was served {surface} instead of being refused: {string.Join(" / ", seen.Lines)}");
                break;
            case Outcome.All:
                Assert.False(seen.Withheld, $"{kind} had {surface} withheld.");
                Assert.Equal(everything, seen.Lines);
                break;
            case Outcome.Own:
                Assert.False(seen.Withheld, $"{kind} had {surface} withheld.");
                Assert.Equal(own, seen.Lines);
                break;
            case Outcome.Withheld:
                Assert.True(seen.Withheld, $"{kind} was shown the stored {surface}: {string.Join(" / ", seen.Lines)}");
                break;
            case Outcome.OwnOrWithheld:
                if (!seen.Withheld)
                {
                    Assert.Equal(own, seen.Lines);
                }
                break;
            case Outcome.None:
                Assert.False(seen.Withheld);
                Assert.Empty(seen.Lines);
                break;
        }
    }

    /// <summary>Rows whose refusals must be for want of permission (the item exists and the call is well formed).</summary>
    private static readonly HashSet<string> AdminOnly = ["Audit log (search, CSV)", "Connection source preview"];

    // ----- running each surface -----

    private static readonly TileMeasure Revenue = new(TileMeasureKind.Sum, "amount");

    private Task<T> With<TService, T>(Func<TService, Task<T>> action) where TService : notnull => f.Data.With(action);

    /// <summary>The board as this kind of user has it: fetched now, or (revoked link) as their open tab holds it.</summary>
    private Task<DashboardView> BoardAsync(UserKind kind, int id) =>
        kind == UserKind.RevokedLink && id == f.MainBoard
            ? Task.FromResult(f.RevokedVisitorsBoard)
            : With<DashboardService, DashboardView>(s => s.GetAsync(id, Ct));

    private Task<TileData> TileAsync(DashboardView board, string tileId) =>
        With<TileDataService, TileData>(s => s.LoadAsync(board, board.Tiles.Single(t => t.Id == tileId), DashboardState.Empty, Ct));

    private static string Text(object? value) => value is double d ? d.ToString("0.##", CultureInfo.InvariantCulture) : MarkValue.Text(value) ?? "∅";

    private static List<string> Lines(IEnumerable<object?[]> rows, string prefix = "") =>
        rows.Select(r => prefix + string.Join("|", r.Select(Text))).Order(StringComparer.Ordinal).ToList();

    private static List<string> Table(IReadOnlyList<string> columns, IEnumerable<object?[]> rows) => [string.Join("|", columns), .. Lines(rows)];

    private static async Task<string[]> CsvAsync(Func<Stream, Task<long>> write)
    {
        using var buffer = new MemoryStream();
        await write(buffer);
        var lines = Encoding.UTF8.GetString(buffer.ToArray()).TrimStart('\uFEFF').Split(["\r\n", "\n"], StringSplitOptions.RemoveEmptyEntries);
        return [lines[0], .. lines.Skip(1).Order(StringComparer.Ordinal)];
    }

    private async Task<Seen> RunAsync(string surface, UserKind kind)
    {
        switch (surface)
        {
            case "Dataset preview":
            {
                var preview = await With<DatasetProfiler, DatasetPreview>(p => p.PreviewAsync(f.Data.Customers.Id, Ct));
                return new([.. Table(preview.Columns, preview.Rows), $"total={preview.TotalRows}"]);
            }
            case "Column profile":
            {
                var profile = await With<DatasetProfiler, IReadOnlyList<ColumnProfile>>(p => p.ProfileAsync(f.Data.Customers.Id, Ct));
                return new(profile.Select(c => $"{c.Name}|{c.Rows}|{c.Distinct}|{c.Min}|{c.Max}").ToList());
            }
            case "Dataset row counts":
            {
                var overview = await With<DatasetProfiler, DatasetOverview>(p => p.OverviewAsync(f.Data.Customers.Id, Ct));
                var count = await With<DatasetProfiler, long>(p => p.CountAsync(f.Data.Orders.Id, Ct));
                var listed = (await With<DatasetCatalog, IReadOnlyList<DatasetSummary>>(c => c.ListAsync(Ct))).Single(d => d.Id == f.Data.Customers.Id);
                var home = await With<DatasetCatalog, PortalOverview>(c => c.GetOverviewAsync(Ct));
                var segmentable = (await With<RuleBuilderService, IReadOnlyList<DatasetSummary>>(s => s.SegmentableDatasetsAsync(Ct))).Single(d => d.Id == f.Data.Customers.Id);
                return new([
                    $"customers {overview.Rows} rows: {string.Join(",", overview.Columns.Where(c => c.Source is null).Select(c => c.Name))}",
                    $"orders {count} rows", $"listed {listed.RowCount} rows, {listed.ColumnCount} columns", $"home {home.TotalRows} rows",
                    $"segmentable {segmentable.RowCount} rows",
                ]);
            }
            case "Dataset history":
            {
                var history = (await With<DatasetCatalog, DatasetHistory>(c => c.HistoryAsync(f.Data.Customers.Id, Ct))).Refreshes;
                Assert.NotEmpty(history);
                return new(history.Select(r => $"rows={r.RowCount}").Distinct().ToList(), history.All(r => r.RowCount is null));
            }
            case "Board definition":
            {
                var board = await With<DashboardService, DashboardView>(s => s.GetAsync(f.MainBoard, Ct));
                return new([$"{board.Name}: {string.Join(",", board.Tiles.Select(t => t.Id))}"]);
            }
            case "Tile data":
            {
                var board = await BoardAsync(kind, f.MainBoard);
                var lines = new List<string>();
                foreach (var tile in board.Tiles)
                {
                    lines.AddRange(Lines((await TileAsync(board, tile.Id)).Rows, $"{tile.Id}:"));
                }
                return new(lines);
            }
            case "Board load (fused tiles)":
            {
                // The whole board at once (fused), which must give every tile exactly what it gives loaded alone.
                var board = await BoardAsync(kind, f.MainBoard);
                var fused = await With<TileDataService, IReadOnlyDictionary<string, TileData>>(s => s.LoadBoardAsync(board, board.Tiles, DashboardState.Empty, Ct));
                var lines = new List<string>();
                foreach (var tile in board.Tiles)
                {
                    var alone = Lines((await TileAsync(board, tile.Id)).Rows, $"{tile.Id}:");
                    var together = Lines(fused[tile.Id].Rows, $"{tile.Id}:");
                    Assert.Equal(alone, together);
                    lines.AddRange(together);
                }
                return new(lines);
            }
            case "Filter values and fields":
            {
                var board = await BoardAsync(kind, f.MainBoard);
                var values = await With<TileDataService, IReadOnlyList<FilterValue>>(s => s.FilterValuesAsync(board, 0, cancellationToken: Ct));
                var fields = await With<TileDataService, IReadOnlyList<QueryField>>(s => s.FilterFieldsAsync(board, Ct));
                return new([.. values.Select(v => $"{v.Value}|{v.Rows}").Order(StringComparer.Ordinal),
                    $"fields: {string.Join(",", fields.Where(x => x.Source is null && x.Name is "email" or "phone" or "credit_limit").Select(x => x.Name).Order(StringComparer.Ordinal))}"]);
            }
            case "Underlying rows":
            {
                var board = await BoardAsync(kind, f.MainBoard);
                var tile = board.Tiles.Single(t => t.Id == "byCategory");
                var rows = await With<TileDataService, UnderlyingRows>(s => s.UnderlyingAsync(board, tile, DashboardState.Empty, ["Toys"], Ct));
                var id = rows.Columns.ToList().IndexOf("customer_id");
                return new(rows.Rows.Select(r => Text(r[id])).Order(StringComparer.Ordinal).ToList());
            }
            case "Tile export (CSV, XLSX)":
            {
                var board = await BoardAsync(kind, f.MainBoard);
                var data = await TileAsync(board, "people");
                await f.Data.With<SharingService>(s => s.RecordExportAsync(board.Id, "People", "CSV", data.Rows.Count, Ct));
                using var xlsx = new MemoryStream();
                await TableExport.WriteXlsxAsync([.. data.Dimensions, .. data.Measures], data.Rows, xlsx, "People", Ct);
                Assert.True(xlsx.Length > 0);
                return new(await CsvAsync(stream => TableExport.WriteCsvAsync([.. data.Dimensions, .. data.Measures], data.Rows, stream, Ct)));
            }
            case "Board PDF/PNG":
            {
                // The server-side check behind the PDF and PNG buttons, then the tiles as the print page loads them under
                // the requesting user's identity (the pixels are Chromium's).
                var board = await BoardAsync(kind, f.MainBoard);
                await f.Data.With<SharingService>(s => s.RecordExportAsync(board.Id, null, "PDF", null, Ct));
                var lines = new List<string>();
                foreach (var tile in board.Tiles)
                {
                    lines.AddRange(Lines((await TileAsync(board, tile.Id)).Rows, $"{tile.Id}:"));
                }
                return new(lines);
            }
            case "Segment live count":
            {
                // As the rule builder counts a rule being written (no saved segment involved).
                var rule = new RuleGroup { Children = [new FieldCondition { Field = "city", Operator = RuleOperator.IsNotEmpty }] };
                var count = await With<SegmentService, LiveCount>(s => s.CountAsync(f.Data.Customers.Id, rule, Ct));
                return new([$"{count.Matching} of {count.Total}"]);
            }
            case "Segment member preview":
            {
                var page = await With<SegmentService, MemberPage>(s => s.MembersAsync(f.Data.Customers.Id, new RuleGroup(), cancellationToken: Ct));
                return new([.. Table(page.Columns, page.Rows), $"total={page.Total}"]);
            }
            case "Segment member export":
            {
                var members = await With<SegmentService, QueryResult>(s => s.AllMembersAsync(f.Segment, Ct));
                return new(await CsvAsync(stream => TableExport.WriteCsvAsync(members, stream, Ct)));
            }
            case "Segment member page (API)":
            {
                var page = await With<SegmentService, SegmentMemberPage>(s => s.MemberPageAsync(f.Segment, null, 0, SegmentService.MaxMemberPage, Ct));
                Assert.False(page.More); // the holdout flags have their own row, "Segment holdout marks"
                return new(Table(page.Columns, page.Rows));
            }
            case "Segment stored sizes and history":
            {
                var (segment, _, _) = await With<SegmentService, (Segment, RuleTree, bool)>(s => s.GetAsync(f.Segment, Ct));
                var listed = (await With<SegmentService, IReadOnlyList<SegmentRow>>(s => s.ListAsync(Ct))).Single(r => r.Id == f.Segment);
                var history = await With<SegmentService, IReadOnlyList<SegmentSnapshot>>(s => s.HistoryAsync(f.Segment, Ct));
                var visible = await With<SegmentService, bool>(s => s.StoredCountsVisibleAsync(f.Segment, Ct));
                var (entered, _) = await With<SegmentService, (IReadOnlyList<string> Entered, IReadOnlyList<string> Left)>(s => s.ChangesAsync(f.Segment, f.SegmentSnapshotId, Ct));
                SegmentOverlap? overlap = null;
                try
                {
                    overlap = await With<SegmentService, SegmentOverlap>(s => s.CompareAsync([f.Segment, f.OtherSegment], Ct));
                }
                catch (PortalException e) when (e.Message == SegmentService.RestrictedCountsMessage)
                {
                }
                var withheld = segment.Size is null && listed.Size is null && history.Count == 0 && entered.Count == 0 && !visible && overlap is null;
                return new([
                    $"size={segment.Size}", $"listed={listed.Size}", $"history={string.Join(",", history.Select(h => h.Size))}",
                    $"entered={string.Join(",", entered.Order(StringComparer.Ordinal))}", $"overlap={string.Join(",", overlap?.Sizes ?? [])}",
                ], withheld);
            }
            case "Segment holdout marks":
            {
                var page = await With<SegmentService, MemberPage>(s => s.MembersAsync(f.Data.Customers.Id, new RuleGroup(), cancellationToken: Ct));
                var marks = await With<SegmentHoldoutService, IReadOnlyList<bool>?>(s => s.MarksAsync(f.Segment, page, Ct));
                Assert.NotNull(marks);
                var id = page.Columns.ToList().IndexOf("id");
                return new(page.Rows.Select((r, i) => $"{Text(r[id])}|{(marks[i] ? "held out" : "treated")}").Order(StringComparer.Ordinal).ToList());
            }
            case "Segment holdout counts":
            {
                var summary = await With<SegmentHoldoutService, HoldoutSummary>(s => s.SummaryAsync(f.Segment, Ct));
                return HoldoutCounts(summary);
            }
            case "Segment holdout setting":
            {
                // The share it already has: the write is checked, the segment stays as the other rows expect it.
                var summary = await With<SegmentHoldoutService, HoldoutSummary>(s => s.SetShareAsync(f.Segment, PermissionMatrixFixture.HoldoutShare, Ct));
                return HoldoutCounts(summary);
            }
            case "Lift report":
            {
                var report = await With<LiftService, LiftReport>(s => s.RunAsync(new LiftRequest(f.Segment, new DateOnly(2023, 1, 1), LiftMetric.RepeatRate), Ct));
                var c = report.Comparison;
                return new([$"treated={c.Treated.Customers}|{Math.Round(c.Treated.Mean * c.Treated.Customers)}", $"holdout={c.Holdout.Customers}|{Math.Round(c.Holdout.Mean * c.Holdout.Customers)}"]);
            }
            case "Segment sync (members sent)":
            {
                // A file drop of the whole segment, made and run as this user; the file holds what left the portal.
                var choices = await With<SyncService, SyncChoices>(s => s.ChoicesAsync(f.Segment, Ct));
                Assert.True(choices.Columns.Single(c => c.Name == "name").Allowed);
                var folder = $"matrix/{kind}";
                var sync = await With<SyncService, int>(s => s.CreateAsync(f.Segment, new SyncInput
                {
                    Name = $"Matrix {kind}",
                    Kind = SyncDestinationKind.FileDrop,
                    Folder = folder,
                    Columns = ["name"],
                    Schedule = SyncSchedule.Manual,
                }, Ct));
                await With<SyncService, long>(s => s.RunNowAsync(sync, Ct));
                await f.Data.Harness.Services.GetRequiredService<SyncRunner>().RunDueAsync(Ct);
                var run = (await With<SyncService, IReadOnlyList<SyncRunView>>(s => s.HistoryAsync(sync, 50, Ct)))[0];
                Assert.True(run.Status == SyncRunStatus.Succeeded, run.Error);
                var file = Directory.GetFiles(Path.Combine(f.Data.Harness.Folder.Path, "drops", folder), "*-members.csv").Single();
                var lines = await File.ReadAllLinesAsync(file, Ct);
                return new([lines[0], .. lines.Skip(1).Order(StringComparer.Ordinal)]);
            }
            case "Segment refresh":
            {
                var snapshot = await With<SegmentService, SegmentSnapshot>(s => s.RefreshAsync(f.RefreshedSegment, Ct));
                return new([$"size={snapshot.Size}"]);
            }
            case "Metric values":
            {
                var values = await AloneAndManyAsync(f.RevenueMetric);
                var preview = await With<MetricService, MetricValues>(s => s.PreviewAsync(PermissionMatrixFixture.RevenueDefinition(f.Data.Orders.Id), cancellationToken: Ct));
                Assert.Equal(MetricLines(values), MetricLines(preview));
                return new(MetricLines(values));
            }
            case "Metric tile":
            {
                var board = await BoardAsync(kind, f.MetricBoard);
                var kpi = await TileAsync(board, "kpi");
                var trend = await TileAsync(board, "trend");
                Assert.Equal("Revenue", kpi.Metric?.Name);
                return new([.. Lines(kpi.Rows, "kpi:"), .. Lines(trend.Rows, "trend:")]);
            }
            case "Metric over a hidden column":
            {
                var values = await AloneAndManyAsync(f.HiddenColumnMetric, f.RevenueMetric);
                var preview = await With<MetricService, MetricValues>(s => s.PreviewAsync(PermissionMatrixFixture.RevenueDefinition(f.ScratchOrders.Id, "Scratch revenue"), cancellationToken: Ct));
                Assert.Equal(MetricLines(values), MetricLines(preview));
                var tile = await TileAsync(await BoardAsync(kind, f.MetricBoard), "hidden");
                // Exactly as an ad-hoc KPI of the same column: the same figures where it is allowed.
                var adHoc = new TileDefinition
                {
                    Id = "adhoc", Type = TileType.Kpi, DatasetId = f.ScratchOrders.Id, Measures = [Revenue], DateColumn = "order_date", Period = DateBucket.Month,
                };
                var adHocData = await With<TileDataService, TileData>(s => s.LoadAsync(Board(null, adHoc), adHoc, DashboardState.Empty, Ct));
                Assert.Equal(Lines(adHocData.Rows, "kpi:"), Lines(tile.Rows, "kpi:"));
                return new([.. MetricLines(values), .. Lines(tile.Rows, "kpi:")]);
            }
            case "Alert check and bands":
            {
                var me = f.Data.Harness.CurrentUser.Principal.UserId()!;
                var name = $"{kind}'s revenue watch {Guid.NewGuid():N}";
                var alert = await With<AlertService, int>(s => s.CreateAsync(RevenueAlert(name, me), Ct));
                return new(await CheckAndBandsAsync(alert, name));
            }
            case "Someone else's alert":
            {
                const string name = "Owner's revenue watch";
                if (kind == UserKind.Owner)
                {
                    return new(await CheckAndBandsAsync(f.OwnersAlert, name));
                }
                // Not drawn on their chart of the metric (where they may see it)…
                try
                {
                    var values = await With<MetricService, MetricValues>(s => s.ValuesAsync(f.RevenueMetric, cancellationToken: Ct));
                    var bands = await With<AlertService, IReadOnlyList<AlertChartBand>>(s => s.BandsAsync(f.RevenueMetric, values, Ct));
                    Assert.DoesNotContain(bands, b => b.AlertName == name);
                }
                catch (PortalException)
                {
                }
                // …not checked in their name, and its checks not listed.
                await Assert.ThrowsAnyAsync<PortalException>(() => With<AlertService, AlertCheckRow>(s => s.CheckNowAsync(f.OwnersAlert, Ct)));
                var checks = await With<AlertService, IReadOnlyList<AlertCheckRow>>(s => s.ChecksAsync(f.OwnersAlert, Ct));
                return new([.. checks.Select(c => $"value={Text(c.Value)}")]);
            }
            case "Alert recipient figures":
            {
                // The owner's alert tells this kind of user; then they read their notifications.
                var recipient = kind switch
                {
                    UserKind.Owner => f.Data.Owner.Id,
                    UserKind.EditorShare => f.Editor.Id,
                    UserKind.ViewShare => f.ViewSharer.Id,
                    UserKind.RowRuled => f.Data.NorthAnalyst.Id,
                    UserKind.ColumnRuled => f.MaskedViewer.Id,
                    UserKind.Viewer or UserKind.ViewAs => f.Data.NorthViewer.Id,
                    _ => f.Data.Harness.CurrentUser.Principal.UserId()!,
                };
                var name = $"Revenue for {kind} {Guid.NewGuid():N}";
                f.Data.AsOwner();
                var alert = await With<AlertService, int>(s => s.CreateAsync(RevenueAlert(name, recipient), Ct));
                var check = await With<AlertService, AlertCheckRow>(s => s.CheckNowAsync(alert, Ct));
                Assert.Equal(AlertTransition.Fired, check.Transition);
                f.SignIn(kind);
                var notice = (await With<NotificationService, NotificationPage>(s => s.ListAsync(cancellationToken: Ct))).Items.Single(n => n.Title.StartsWith(name + ":", StringComparison.Ordinal));
                var figure = notice.Title[(name.Length + 2)..];
                if (figure == "fired")
                {
                    // Told that it fired, with no figure anywhere in the message.
                    Assert.DoesNotContain(Text(check.Value), (notice.Body ?? "").Replace(",", "", StringComparison.Ordinal), StringComparison.Ordinal);
                    return new([], Withheld: true);
                }
                return new([$"value={figure.Replace(",", "", StringComparison.Ordinal)}"]);
            }
            case "Lifetime value result":
            {
                var view = await With<LifetimeService, LifetimeView>(s => s.GetAsync(f.LifetimeOrders.Id, Ct));
                if (view.Result is not { } result)
                {
                    Assert.Equal(LifetimeService.WithheldNotice, view.Notice);
                    return new([], Withheld: true);
                }
                return new([$"customers={result.Customers}", $"repeat={result.RepeatCustomers}", $"last={result.Last:yyyy-MM-dd}"]);
            }
            case "Connection source preview":
            {
                var preview = await With<ConnectionService, SourcePreview>(s => s.PreviewAsync(f.Connection, ConnectionSource.ForTable("main", "customers"), cancellationToken: Ct));
                return new(Table(preview.Columns.Select(c => c.Name).ToList(), preview.Rows));
            }
            case "Segment size tile":
            {
                var data = await TileAsync(await BoardAsync(kind, f.AnalysisBoard), "size");
                return new([$"size={Text(data.Rows[^1][1])}"]);
            }
            case "RFM grid tile":
            {
                var data = await TileAsync(await BoardAsync(kind, f.AnalysisBoard), "rfm");
                return new([$"customers={data.Rows.Sum(r => (double)r[3]!)}"]);
            }
            case "Cluster profile tile":
            {
                var data = await TileAsync(await BoardAsync(kind, f.AnalysisBoard), "clusters");
                return new([$"customers={data.Rows.Sum(r => (double)r[1]!)}"], data.Rows.Count == 0 && data.Notice is not null);
            }
            case "Lifecycle stages tile":
            {
                var data = await TileAsync(await BoardAsync(kind, f.AnalysisBoard), "lifecycle");
                return new([$"customers={data.Rows.Sum(r => (double)r[1]!)}"], data.Rows.Count == 0 && data.Notice is not null);
            }
            case "CLV distribution tile":
            {
                var data = await TileAsync(await BoardAsync(kind, f.AnalysisBoard), "clv");
                return new([$"customers={data.Rows.Sum(r => (double)r[2]!)}"], data.Rows.Count == 0 && data.Notice is not null);
            }
            case "P(alive) matrix tile":
            {
                var data = await TileAsync(await BoardAsync(kind, f.AnalysisBoard), "alive");
                return new([$"customers={data.Rows.Sum(r => (double)r[2]!)}"], data.Rows.Count == 0 && data.Notice is not null);
            }
            case "Survival curves tile":
            {
                // Each group's curve starts with all its customers at risk.
                var data = await TileAsync(await BoardAsync(kind, f.AnalysisBoard), "survival");
                var starts = data.Rows.GroupBy(r => (string)r[0]!).Select(g => g.First()).ToList();
                return new([$"customers={starts.Sum(r => (double)r[5]!)}", $"groups={string.Join(",", starts.Select(r => (string)r[0]!).Order(StringComparer.Ordinal))}"],
                    data.Rows.Count == 0 && data.Notice is not null);
            }
            case "RFM saved result":
            {
                var view = await With<RfmService, RfmView>(s => s.GetAsync(f.Data.Orders.Id, Ct));
                return new(view.Result is { } r ? [$"customers={r.Customers}", $"revenue={r.TotalRevenue}"] : [], view.Result is null);
            }
            case "RFM live result":
            {
                var live = await With<RfmService, RfmSummary?>(s => s.LiveAsync(f.Data.Orders.Id, Ct));
                return new(live is { } r ? [$"customers={r.Customers}", $"revenue={r.TotalRevenue}"] : []);
            }
            case "RFM compute":
            {
                var view = await With<RfmService, RfmView>(s => s.ComputeAsync(f.ScratchOrders.Id, new RfmInput { ReferenceDate = Today }, RfmSettings.Default, Ct));
                return new([$"customers={view.Result!.Customers}", $"revenue={view.Result.TotalRevenue}"]);
            }
            case "Clustering result and profiles":
            {
                var view = await With<ClusteringService, ClusteringRunView>(s => s.GetAsync(f.ClusteringRun, Ct));
                var withheld = view.Counts is null && view.Explanation is null;
                return new(withheld ? [] : [$"customers={view.Counts?.Customers}", $"clustered={view.Explanation?.Clusters.Sum(c => c.Size)}"], withheld);
            }
            case "Clustering history":
            {
                // A run whose dataset the user may not read is left out of their history: refused.
                var run = (await With<ClusteringService, IReadOnlyList<ClusteringRunSummary>>(s => s.HistoryAsync(Ct))).SingleOrDefault(r => r.Id == f.ClusteringRun)
                    ?? throw new PermissionDeniedException("The run is not in this user's history.");
                return new(run.Customers == 0 ? [] : [$"customers={run.Customers}"], run.Customers == 0);
            }
            case "Churn run result":
            {
                var view = await With<ChurnService, ChurnRunView>(s => s.GetAsync(f.ChurnRun, Ct));
                var withheld = view.Metrics is null && view.Scoring is null;
                return new(withheld ? [] : [$"scored={view.Scoring?.Scored}", $"customers={view.Summary.Customers}"], withheld);
            }
            case "Churn run history":
            {
                var run = (await With<ChurnService, IReadOnlyList<ChurnRunSummary>>(s => s.HistoryAsync(Ct))).SingleOrDefault(r => r.Id == f.ChurnRun)
                    ?? throw new PermissionDeniedException("The run is not in this user's history.");
                return new(run.Withheld ? [] : [$"customers={run.Customers}"], run.Withheld);
            }
            case "Derived analysis fields":
            {
                var dataset = await With<Authorizer, Dataset>(a => a.RequireReadableAsync(f.Data.Customers.Id, Ct));
                var described = await With<PermissionPolicy, QueryDataset>(p => p.DescribeAsync(dataset, Ct));
                var fields = await With<CustomerAttributeStore, IReadOnlyList<QueryField>>(s => s.FieldsForAsync(dataset, _ => Task.FromResult(true), Ct));
                Assert.NotEmpty(fields);
                string scores;
                try
                {
                    var result = await With<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec { DatasetId = f.Data.Customers.Id, Columns = ["id", RfmService.GroupField] }, Ct));
                    scores = $"scored customers: {result.Rows.Count(r => r[1] is not null)}";
                }
                catch (PortalException)
                {
                    scores = "scores refused";
                }
                var derived = described.Fields.Where(x => x.Source is not null).Select(x => x.Name).ToList();
                var rfmFields = derived.Where(RfmService.Fields.Select(x => x.Field).Contains).Order(StringComparer.Ordinal).ToList();
                return new(derived.Count == 0 && scores == "scores refused" ? [] : [$"RFM: {string.Join(",", rfmFields)}", $"others: {derived.Count - rfmFields.Count}", scores]);
            }
            case "Rule builder values and fields":
            {
                var options = await With<RuleBuilderService, RuleBuilderOptions>(s => s.OptionsAsync(f.Data.Customers.Id, cancellationToken: Ct));
                var regions = await With<RuleBuilderService, IReadOnlyList<string>>(s => s.ValuesAsync(f.Data.Customers.Id, "region", Ct));
                var emails = await With<RuleBuilderService, IReadOnlyList<string>>(s => s.ValuesAsync(f.Data.Customers.Id, "email", Ct));
                return new([
                    $"fields: {string.Join(",", options.Fields.Where(x => x.Source is null).Select(x => x.Name))}",
                    $"regions: {string.Join(",", regions.Order(StringComparer.Ordinal))}",
                    $"emails: {string.Join(",", emails.Order(StringComparer.Ordinal))}",
                ]);
            }
            case "Query":
            {
                var result = await With<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec { DatasetId = f.Data.Customers.Id }, Ct));
                return new(Table(result.Columns, result.Rows));
            }
            case "Query (sampled)":
            {
                var result = await With<QueryService, QueryResult>(q => q.RunSampledAsync(new QuerySpec { DatasetId = f.Data.Customers.Id }, 1_000, Ct));
                return new(Table(result.Columns, result.Rows));
            }
            case "Query with an access token":
            {
                var expires = f.Data.Harness.Services.GetRequiredService<TimeProvider>().GetUtcNow().AddDays(1);
                var token = await With<AccessTokenService, CreatedAccessToken>(s => s.CreateAsync(new NewAccessToken("Matrix", [ApiScopes.ReadData], expires), Ct));
                var check = await With<AccessTokenValidator, AccessTokenCheck>(v => v.ValidateAsync(token.Token, null, Ct));
                f.Data.Harness.CurrentUser.Principal = check.Principal ?? throw new PermissionDeniedException(check.Refusal!);
                var result = await With<QueryService, QueryResult>(q => q.RunAsync(new QuerySpec { DatasetId = f.Data.Customers.Id }, Ct));
                return new(Table(result.Columns, result.Rows));
            }
            case "Audit log (search, CSV)":
            {
                var found = await With<AuditLog, AuditResults>(a => a.SearchAsync(new AuditQuery(), 0, 10, Ct));
                using var csv = new MemoryStream();
                await f.Data.With<AuditExport>(a => a.WriteCsvAsync(new AuditQuery(), csv, Ct));
                return new([$"entries={found.Total}"]);
            }
            default:
                throw new InvalidOperationException($"The matrix has no way to run “{surface}”.");
        }
    }

    private AlertDraft RevenueAlert(string name, string recipient) => new()
    {
        Name = name,
        Subject = AlertSubject.Metric,
        MetricId = f.RevenueMetric,
        Condition = PermissionMatrixFixture.UnusualRevenue,
        Recipients = new AlertRecipients { UserIds = [recipient], Email = false },
    };

    /// <summary>
    /// Checks the user's alert on the revenue now and reads it back as the alerts page and the metric's chart show it: the
    /// recorded check (also in the list of checks) and the usual range drawn on the chart for the values the user sees.
    /// </summary>
    private async Task<List<string>> CheckAndBandsAsync(int alert, string name)
    {
        var check = await With<AlertService, AlertCheckRow>(s => s.CheckNowAsync(alert, Ct));
        var listed = await With<AlertService, IReadOnlyList<AlertCheckRow>>(s => s.ChecksAsync(alert, Ct));
        Assert.Equal(check, listed.Single(c => c.Id == check.Id));
        var values = await With<MetricService, MetricValues>(s => s.ValuesAsync(f.RevenueMetric, cancellationToken: Ct));
        var bands = await With<AlertService, IReadOnlyList<AlertChartBand>>(s => s.BandsAsync(f.RevenueMetric, values, Ct));
        var band = bands.SingleOrDefault(b => b.AlertName == name);
        return AlertLines(check.Value, band?.Band, check.Met);
    }

    private static List<string> AlertLines(double? value, AlertBand? band, bool fired) =>
        [$"value={Text(value)}", band is null ? "usual range: none" : $"usual range {Text(band.Low)}..{Text(band.High)}", $"fired={fired}"];

    /// <summary>
    /// What the revenue alert (<see cref="PermissionMatrixFixture.UnusualRevenue"/>) finds for an audience of
    /// <paramref name="orders"/>: the revenue of the month of their last order up to today, against the usual range of
    /// the twelve months before it (a month without orders is 0).
    /// </summary>
    private static List<string> ExpectedAlert(IReadOnlyList<Order> orders)
    {
        var dated = orders.Select(o => (Date: OrderDates[o.Id], o.Amount)).Where(x => x.Date <= Today).ToList();
        var last = dated.Max(x => x.Date);
        var current = new DateOnly(last.Year, last.Month, 1);
        double value = dated.Where(x => x.Date >= current).Sum(x => x.Amount);
        var history = Enumerable.Range(1, PermissionMatrixFixture.UnusualRevenue.HistoryPeriods).Select(i => current.AddMonths(-i))
            .Select(m => (double)dated.Where(x => x.Date >= m && x.Date < m.AddMonths(1)).Sum(x => x.Amount)).ToList();
        var band = AlertConditions.UsualRange(history, PermissionMatrixFixture.UnusualRevenue.Sensitivity);
        return AlertLines(value, band, band is not null && (value < band.Low || value > band.High));
    }

    /// <summary>A metric's values as lines: the months with a value, the last day with data, and the same days of the month before.</summary>
    /// <summary>
    /// A metric's values alone (<see cref="MetricService.ValuesAsync"/>), checked against the same metric among others
    /// (<see cref="MetricService.ValuesBatchAsync"/>, <see cref="MetricService.ValuesManyAsync"/>): the same figures, and
    /// where it is refused alone it is left out of many (with the same message when the user may see the metric).
    /// </summary>
    private async Task<MetricValues> AloneAndManyAsync(int metric, params int[] others)
    {
        var batch = await With<MetricService, MetricValuesBatch>(s => s.ValuesBatchAsync([metric, .. others], cancellationToken: Ct));
        var many = await With<MetricService, IReadOnlyDictionary<int, MetricValues>>(s => s.ValuesManyAsync([metric, .. others], cancellationToken: Ct));
        MetricValues values;
        try
        {
            values = await With<MetricService, MetricValues>(s => s.ValuesAsync(metric, cancellationToken: Ct));
        }
        catch (PortalException e)
        {
            Assert.False(batch.Values.ContainsKey(metric));
            Assert.False(many.ContainsKey(metric));
            if (batch.Errors.TryGetValue(metric, out var error))
            {
                Assert.Equal(e.Message, error);
            }
            throw;
        }
        Assert.Equal(MetricLines(values), MetricLines(batch.Values[metric]));
        Assert.Equal(MetricLines(values), MetricLines(many[metric]));
        return values;
    }

    private static List<string> MetricLines(MetricValues values) =>
    [
        .. values.Trend.Where(p => p.Value is not null and not 0).Select(p => $"{p.Start:yyyy-MM}|{Text(p.Value)}"),
        $"through {values.Through:yyyy-MM-dd}",
        values.SameDays is { } same ? $"same days {same.From:yyyy-MM-dd}..{same.Through:yyyy-MM-dd}={Text(same.Value)}" : "a whole month",
    ];

    /// <summary>
    /// What the revenue metric gives an audience of <paramref name="orders"/>: the twelve months up to the last one with
    /// orders up to today, and (the last month being partial) the month before up to the same day.
    /// </summary>
    private static List<string> ExpectedMetric(IReadOnlyList<Order> orders)
    {
        var dated = orders.Select(o => (Date: OrderDates[o.Id], o.Amount)).Where(x => x.Date <= Today).ToList();
        var last = dated.Max(x => x.Date);
        var current = new DateOnly(last.Year, last.Month, 1);
        var lines = dated.Where(x => x.Date >= current.AddMonths(-11)).GroupBy(x => new DateOnly(x.Date.Year, x.Date.Month, 1)).OrderBy(g => g.Key)
            .Select(g => $"{g.Key:yyyy-MM}|{g.Sum(x => x.Amount)}").ToList();
        lines.Add($"through {last:yyyy-MM-dd}");
        var previous = current.AddMonths(-1);
        var to = previous.AddDays(Math.Min(last.Day, DateTime.DaysInMonth(previous.Year, previous.Month)) - 1);
        lines.Add(last < current.AddMonths(1).AddDays(-1)
            ? $"same days {previous:yyyy-MM-dd}..{to:yyyy-MM-dd}={dated.Where(x => x.Date >= previous && x.Date <= to).Sum(x => x.Amount)}"
            : "a whole month");
        return lines;
    }

    /// <summary>A KPI tile's rows on 2024-06-15: each of the twelve months up to June 2024 with its revenue (0 without orders).</summary>
    private static List<string> ExpectedKpi(IReadOnlyList<Order> orders, string prefix) =>
        Enumerable.Range(0, 12).Select(i => new DateOnly(2023, 7, 1).AddMonths(i))
            .Select(m => $"{prefix}{m:yyyy-MM-dd}|{orders.Where(o => OrderDates[o.Id].Year == m.Year && OrderDates[o.Id].Month == m.Month).Sum(o => o.Amount)}")
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>The lifetime-value purchases an audience sees: its customers, those who bought on two days or more, and the last day.</summary>
    private static List<string> ExpectedLifetime(Audience a)
    {
        var seen = PermissionMatrixFixture.LifetimePurchases.Where(p => a.Regions.Contains(p.Region)).ToList();
        var byCustomer = seen.GroupBy(p => p.Customer).ToList();
        return [$"customers={byCustomer.Count}", $"repeat={byCustomer.Count(g => g.Select(p => p.Day).Distinct().Count() > 1)}", $"last={seen.Max(p => p.Day):yyyy-MM-dd}"];
    }

    /// <summary>The survival curves by region of the lifetime-value purchases an audience sees: its customers and their regions.</summary>
    private static List<string> ExpectedSurvival(Audience a)
    {
        var seen = PermissionMatrixFixture.LifetimePurchases.Where(p => a.Regions.Contains(p.Region)).ToList();
        return [$"customers={seen.Select(p => p.Customer).Distinct().Count()}", $"groups={string.Join(",", seen.Select(p => p.Region).Distinct().Order(StringComparer.Ordinal))}"];
    }

    /// <summary>Rows of the lifetime-value purchases an audience sees (they count on the home page).</summary>
    private static int LifetimeRows(Audience a) => PermissionMatrixFixture.LifetimePurchases.Count(p => a.Regions.Contains(p.Region));

    private static Seen HoldoutCounts(HoldoutSummary summary) =>
        summary.Withheld ? new([], true) : new([$"share={summary.Share}", $"members={summary.Members}", $"heldout={summary.HeldOut}"]);

    /// <summary>
    /// Whether a customer of the fixture's segment is held out, worked out here from the definition (the first four
    /// bytes of SHA-256 of "salt:key", big-endian, over 2^32, below the share): customers 1, 2 and 4.
    /// </summary>
    private static bool HeldOut(int customer)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{PermissionMatrixFixture.HoldoutSalt}:{customer}"));
        return ((uint)hash[0] << 24 | (uint)hash[1] << 16 | (uint)hash[2] << 8 | hash[3]) / 4294967296.0 < PermissionMatrixFixture.HoldoutShare;
    }

    // ----- what each surface shows an audience -----

    private static List<string> Expected(string surface, Audience a)
    {
        var customers = a.Customers.ToList();
        var orders = a.Orders.ToList();
        string Sum(IEnumerable<Order> os) => os.Sum(o => o.Amount).ToString(CultureInfo.InvariantCulture);
        List<string> Sorted(IEnumerable<string> lines) => lines.Order(StringComparer.Ordinal).ToList();
        List<string> CustomerTable() => [string.Join("|", a.CustomerColumns), .. Sorted(customers.Select(c => a.CustomerRow(c)))];
        List<string> Tiles() =>
        [
            .. Sorted(orders.GroupBy(o => o.Region).Select(g => $"byRegion:{g.Key}|{Sum(g)}")),
            .. Sorted(orders.GroupBy(o => o.Category).Select(g => $"byCategory:{g.Key}|{Sum(g)}")),
            .. Sorted(customers.Select(c => $"people:{c.Id}|{c.Name}|{a.Email(c)}")),
        ];
        List<string> Csv() => ["id,name,email", .. Sorted(customers.Select(c => $"{c.Id},{c.Name},{a.Email(c)}"))];
        // RFM counts customers with orders in the window; every customer here has one.
        var rfmCustomers = orders.Select(o => o.Customer).Distinct().Count();
        List<string> Rfm() => [$"customers={rfmCustomers}", $"revenue={Sum(orders)}"];

        return surface switch
        {
            "Dataset preview" => [.. CustomerTable(), $"total={customers.Count}"],
            "Column profile" => a.CustomerColumns.Select(column => column switch
            {
                "id" => $"id|{customers.Count}|{customers.Count}|{customers.Min(c => c.Id)}|{customers.Max(c => c.Id)}",
                "name" => Profile("name", customers.Select(c => c.Name)),
                "region" => Profile("region", customers.Select(c => c.Region)),
                "email" => Profile("email", customers.Select(a.Email)),
                "phone" => $"phone|{customers.Count}|{customers.Count}|{customers.Min(c => long.Parse(c.Phone, CultureInfo.InvariantCulture))}|{customers.Max(c => long.Parse(c.Phone, CultureInfo.InvariantCulture))}",
                "credit_limit" when a.ColumnRules => Profile("credit_limit", customers.Select(a.Credit)),
                "credit_limit" => $"credit_limit|{customers.Count}|{customers.Count}|{customers.Min(c => c.Credit)}|{customers.Max(c => c.Credit)}",
                _ => Profile("city", customers.Select(c => c.City)),
            }).ToList(),
            "Dataset row counts" =>
            [
                $"customers {customers.Count} rows: {string.Join(",", a.CustomerColumns)}", $"orders {orders.Count} rows",
                $"listed {customers.Count} rows, {a.CustomerColumns.Length} columns", $"home {customers.Count + 2 * orders.Count + LifetimeRows(a)} rows",
                $"segmentable {customers.Count} rows",
            ],
            "Dataset history" => [$"rows={customers.Count}"],
            "Board definition" => ["Regions: byRegion,byCategory,people"],
            "Tile data" or "Board load (fused tiles)" or "Board PDF/PNG" => Tiles(),
            "Filter values and fields" =>
            [
                .. Sorted(a.Regions.Select(r => $"{r}|{customers.Count(c => c.Region == r) + orders.Count(o => o.Region == r)}")),
                a.ColumnRules ? "fields: credit_limit,email" : "fields: credit_limit,email,phone",
            ],
            "Underlying rows" => Sorted(orders.Where(o => o.Category == "Toys").Select(o => $"{o.Customer}")),
            "Tile export (CSV, XLSX)" => Csv(),
            "Segment live count" => [$"{customers.Count} of {customers.Count}"],
            "Segment member preview" => [.. CustomerTable(), $"total={customers.Count}"],
            "Segment member page (API)" => CustomerTable(),
            "Segment member export" => [string.Join(",", a.CustomerColumns), .. Sorted(customers.Select(c => a.CustomerRow(c, ',')))],
            "Segment stored sizes and history" => [$"size={customers.Count}", $"listed={customers.Count}", $"history={customers.Count}",
                $"entered={string.Join(",", Sorted(customers.Select(c => $"{c.Id}")))}", $"overlap={customers.Count},{customers.Count}"],
            "Segment holdout marks" => Sorted(customers.Select(c => $"{c.Id}|{(HeldOut(c.Id) ? "held out" : "treated")}")),
            "Segment holdout counts" or "Segment holdout setting" =>
                [$"share={PermissionMatrixFixture.HoldoutShare}", $"members={customers.Count}", $"heldout={customers.Count(c => HeldOut(c.Id))}"],
            // Repeat customers (two or more orders since 2023) among the treated and the held out the audience sees.
            "Lift report" =>
            [
                .. new[] { false, true }.Select(held =>
                {
                    var group = customers.Where(c => HeldOut(c.Id) == held).ToList();
                    return $"{(held ? "holdout" : "treated")}={group.Count}|{group.Count(c => orders.Count(o => o.Customer == c.Id) >= 2)}";
                }),
            ],
            "Segment size tile" or "Segment refresh" => [$"size={customers.Count}"],
            // The holdout never leaves the portal.
            "Segment sync (members sent)" => ["customer_key,name", .. Sorted(customers.Where(c => !HeldOut(c.Id)).Select(c => $"{c.Id},{c.Name}"))],
            "Connection source preview" => CustomerTable(),
            "RFM grid tile" or "Cluster profile tile" or "Lifecycle stages tile" => [$"customers={rfmCustomers}"],
            "RFM saved result" or "RFM live result" or "RFM compute" => Rfm(),
            "Clustering result and profiles" => [$"customers={rfmCustomers}", $"clustered={rfmCustomers}"],
            "Clustering history" => [$"customers={rfmCustomers}"],
            "Churn run result" => [$"scored={rfmCustomers}", $"customers={rfmCustomers}"],
            "Churn run history" => [$"customers={rfmCustomers}"],
            // The RFM fields, and the clustering run's cluster number and name.
            "Derived analysis fields" => [$"RFM: {string.Join(",", Sorted(RfmService.Fields.Select(x => x.Field)))}", $"others: {(a.ColumnRules ? 0 : 2)}", $"scored customers: {rfmCustomers}"],
            "Rule builder values and fields" =>
            [
                $"fields: {string.Join(",", a.CustomerColumns)}", $"regions: {string.Join(",", Sorted(customers.Select(c => c.Region).Distinct()))}",
                $"emails: {string.Join(",", Sorted(customers.Select(a.Email)))}",
            ],
            "Query" or "Query (sampled)" or "Query with an access token" => CustomerTable(),
            "Metric values" => ExpectedMetric(orders),
            "Metric tile" =>
            [
                .. ExpectedKpi(orders, "kpi:"),
                .. Sorted(orders.GroupBy(o => new DateOnly(OrderDates[o.Id].Year, OrderDates[o.Id].Month, 1)).Select(g => $"trend:{g.Key:yyyy-MM-dd}|{Sum(g)}")),
            ],
            "Metric over a hidden column" => [.. ExpectedMetric(orders), .. ExpectedKpi(orders, "kpi:")],
            "Alert check and bands" or "Someone else's alert" => ExpectedAlert(orders),
            "Alert recipient figures" => [ExpectedAlert(orders)[0]],
            "Lifetime value result" => ExpectedLifetime(a),
            "CLV distribution tile" or "P(alive) matrix tile" => [ExpectedLifetime(a)[0]],
            "Survival curves tile" => ExpectedSurvival(a),
            _ => [],
        };

        static string Profile(string name, IEnumerable<string> values)
        {
            var list = values.ToList();
            return $"{name}|{list.Count}|{list.Distinct().Count()}|{list.Min(StringComparer.Ordinal)}|{list.Max(StringComparer.Ordinal)}";
        }
    }
}
