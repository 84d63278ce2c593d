using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Users;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Analysis.Clustering;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Datasets.Recipes;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Import;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Tests.Import;

namespace SegmentPortal.Tests.Access.Holes;

/// <summary>
/// Issue 12, actions not granted: a view-only share is read-only (B1 datasets, B3 segments), moving a board needs its
/// owner's rights (B2), and viewing as someone changes nothing (B5).
/// </summary>
public sealed class WriteHoleTests : IAsyncLifetime
{
    private readonly PermissionFixture _f = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => _f.InitializeAsync();

    public ValueTask DisposeAsync() => _f.DisposeAsync();

    // ---- B1 ----

    [Fact]
    public async Task B1_a_view_only_dataset_sharee_cannot_replace_the_data_with_a_new_file()
    {
        _f.AsRulelessAnalyst();
        var upload = await _f.Harness.UploadAsync("customers.csv", "id,name\n9,Mallory\n");

        var error = await Assert.ThrowsAnyAsync<PortalException>(() => _f.With<DatasetImportService, IReadOnlyList<JobSnapshot>>(
            s => s.StartFileImportAsync(new FileImportRequest([upload.Id], RefreshDatasetId: _f.Customers.Id))));

        Assert.Contains("Only the owner", error.Message, StringComparison.Ordinal);
        Assert.Empty(_f.Harness.Services.GetRequiredService<JobQueue>().List());

        // The owner still can.
        _f.AsOwner();
        var mine = await _f.Harness.UploadAsync("customers.csv", PermissionFixture.CustomersCsv);
        var jobs = await _f.With<DatasetImportService, IReadOnlyList<JobSnapshot>>(
            s => s.StartFileImportAsync(new FileImportRequest([mine.Id], RefreshDatasetId: _f.Customers.Id)));
        Assert.Single(jobs);
    }

    [Fact]
    public async Task B1_a_view_only_dataset_sharee_cannot_start_a_refresh_or_change_the_schedule()
    {
        _f.AsRulelessAnalyst();

        var refresh = await Assert.ThrowsAnyAsync<PortalException>(() => _f.With<DatasetImportService, JobSnapshot>(s => s.StartRefreshAsync(_f.Customers.Id)));
        Assert.Contains("Only the owner", refresh.Message, StringComparison.Ordinal);
        var schedule = await Assert.ThrowsAnyAsync<PortalException>(() =>
            _f.With<DatasetImportService>(s => s.SetScheduleAsync(_f.Customers.Id, RefreshSchedule.Manual, Ct)));
        Assert.Contains("Only the owner", schedule.Message, StringComparison.Ordinal);

        _f.AsOwner();
        await _f.With<DatasetImportService>(s => s.SetScheduleAsync(_f.Customers.Id, RefreshSchedule.Manual, Ct));
    }

    /// <summary>
    /// The same hole on a dataset that can be refreshed at all (from a connection): the file datasets above refuse a
    /// refresh anyway, for being files.
    /// </summary>
    [Fact]
    public async Task B1_a_view_only_sharee_cannot_refresh_or_schedule_a_connection_dataset()
    {
        var file = Path.Combine(_f.Harness.Services.GetRequiredService<SqliteSourceFolder>().FolderPath, "crm.db");
        await using (var source = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Pooling=False"))
        {
            await source.OpenAsync(Ct);
            await using var command = source.CreateCommand();
            command.CommandText = "CREATE TABLE accounts (id INTEGER, name TEXT); INSERT INTO accounts VALUES (1, 'Ann'), (2, 'Bo');";
            await command.ExecuteNonQueryAsync(Ct);
        }
        _f.AsAdmin();
        var connection = await _f.With<ConnectionService, int>(s => s.CreateAsync(new ConnectionInput { Name = "CRM", Kind = ConnectionKind.Sqlite, Database = "crm.db" }, Ct));
        _f.AsOwner();
        var owner = await _f.Harness.CurrentUser.GetPrincipalAsync();
        await _f.With<DatasetImportRunner>(r => r.RunAsync(owner, new ConnectionImportRequest(connection, "CRM", ConnectionSource.ForTable("main", "accounts")),
            new Progress<JobProgress>(), Ct));
        int accounts;
        await using (var db = await _f.Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            accounts = (await db.Datasets.AsNoTracking().SingleAsync(d => d.SourceKind == DatasetSourceKind.Connection, Ct)).Id;
        }
        await _f.With<DatasetSharing>(s => s.SetAsync(accounts, [Roles.Analyst], []));

        _f.AsRulelessAnalyst();
        Assert.NotNull(await _f.With<Authorizer, Dataset>(a => a.RequireReadableAsync(accounts, Ct)));
        var refresh = await Assert.ThrowsAnyAsync<PortalException>(() => _f.With<DatasetImportService, JobSnapshot>(s => s.StartRefreshAsync(accounts)));
        var schedule = await Assert.ThrowsAnyAsync<PortalException>(() =>
            _f.With<DatasetImportService>(s => s.SetScheduleAsync(accounts, RefreshSchedule.Hourly, Ct)));

        Assert.Contains("Only the owner", refresh.Message, StringComparison.Ordinal);
        Assert.Contains("Only the owner", schedule.Message, StringComparison.Ordinal);
        Assert.Empty(_f.Harness.Services.GetRequiredService<JobQueue>().List());
        await using (var db = await _f.Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            Assert.Equal(RefreshSchedule.Manual, (await db.Datasets.AsNoTracking().SingleAsync(d => d.Id == accounts, Ct)).Schedule);
        }
        // The owner still can.
        _f.AsOwner();
        await _f.With<DatasetImportService>(s => s.SetScheduleAsync(accounts, RefreshSchedule.Hourly, Ct));
        Assert.Contains("CRM", (await _f.With<DatasetImportService, JobSnapshot>(s => s.StartRefreshAsync(accounts))).Title, StringComparison.Ordinal);
    }

    // ---- B2 ----

    [Fact]
    public async Task B2_an_editor_cannot_move_a_board_into_their_own_folder_and_widen_it_through_the_folder()
    {
        _f.AsOwner();
        var board = await _f.With<DashboardService, int>(s => s.CreateAsync("Owner's board", cancellationToken: Ct));
        await _f.With<SharingService>(s => s.ShareAsync(SharedItem.Dashboard, board, _f.RulelessAnalyst.Id, null, ShareLevel.Editor, Ct));

        _f.AsRulelessAnalyst();
        var folder = await _f.With<DashboardFolders, int>(s => s.CreateFolderAsync("Mine", Ct));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => _f.With<DashboardFolders>(s => s.MoveAsync(board, folder, Ct)));
        await _f.With<SharingService>(s => s.ShareAsync(SharedItem.Folder, folder, null, Roles.Viewer, ShareLevel.Viewer, Ct));

        _f.AsNorthViewer();
        Assert.False((await _f.With<Authorizer, ItemAccess>(s => s.AccessAsync(SharedItem.Dashboard, board, Ct))).CanView);
        await using var db = await _f.Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        Assert.Null((await db.Dashboards.AsNoTracking().SingleAsync(d => d.Id == board, Ct)).FolderId);

        // The owner files their own board in a folder they may edit.
        _f.AsOwner();
        var own = await _f.With<DashboardFolders, int>(s => s.CreateFolderAsync("Owner's folder", Ct));
        await _f.With<DashboardFolders>(s => s.MoveAsync(board, own, Ct));
    }

    // ---- B3 ----

    [Fact]
    public async Task B3_a_view_only_segment_sharee_cannot_refresh_and_overwrite_its_stored_size()
    {
        _f.AsOwner();
        var segment = await _f.With<SegmentService, int>(s => s.CreateAsync(new SegmentDraft("North", _f.Customers.Id,
            new RuleTree { Root = new RuleGroup { Children = [new FieldCondition { Field = "region", Operator = RuleOperator.Equals, Value = "North" }] } }), Ct));
        await _f.With<SharingService>(s => s.ShareAsync(SharedItem.Segment, segment, _f.RulelessAnalyst.Id, null, ShareLevel.Viewer, Ct));

        _f.AsRulelessAnalyst();
        await Assert.ThrowsAsync<PermissionDeniedException>(() => _f.With<SegmentService, SegmentSnapshot>(s => s.RefreshAsync(segment, Ct)));

        await using var db = await _f.Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        Assert.Equal(2, (await db.Segments.AsNoTracking().SingleAsync(s => s.Id == segment, Ct)).Size);
        Assert.Equal(1, await db.SegmentSnapshots.CountAsync(s => s.SegmentId == segment, Ct));
        _f.AsOwner();
        await _f.With<SegmentService, SegmentSnapshot>(s => s.RefreshAsync(segment, Ct));
    }

    // ---- B5 ----

    [Fact]
    public async Task B5_every_write_is_refused_while_an_admin_views_as_someone()
    {
        _f.AsOwner();
        var segment = await _f.With<SegmentService, int>(s => s.CreateAsync(new SegmentDraft("All", _f.Customers.Id, new RuleTree()), Ct));
        await _f.With<SharingService>(s => s.ShareAsync(SharedItem.Segment, segment, _f.RulelessAnalyst.Id, null, ShareLevel.Viewer, Ct));
        var share = (await _f.With<SharingService, ShareList>(s => s.ListAsync(SharedItem.Segment, segment, Ct))).Entries.Single(e => !e.IsOwner).ShareId!.Value;
        var board = await _f.With<DashboardService, int>(s => s.CreateAsync("Board", cancellationToken: Ct));
        var folder = await _f.With<DashboardFolders, int>(s => s.CreateFolderAsync("Folder", Ct));
        var upload = await _f.Harness.UploadAsync("customers.csv", PermissionFixture.CustomersCsv);

        _f.AsAdmin();
        await using (var scope = _f.Harness.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ViewAsService>().StartAsync(_f.Owner.Id, Ct);
            _f.Harness.CurrentUser.Principal = scope.ServiceProvider.GetRequiredService<ViewAsState>().Principal!;
        }

        var writes = new (string Name, Func<IServiceProvider, Task> Write)[]
        {
            ("dataset sharing", sp => sp.GetRequiredService<DatasetSharing>().SetAsync(_f.Customers.Id, [Roles.Viewer], [], Ct)),
            ("dataset file refresh", sp => sp.GetRequiredService<DatasetImportService>().StartFileImportAsync(new FileImportRequest([upload.Id], RefreshDatasetId: _f.Customers.Id))),
            ("dataset connection refresh", sp => sp.GetRequiredService<DatasetImportService>().StartRefreshAsync(_f.Customers.Id)),
            ("dataset schedule", sp => sp.GetRequiredService<DatasetImportService>().SetScheduleAsync(_f.Customers.Id, RefreshSchedule.Manual, Ct)),
            ("dataset columns", sp => sp.GetRequiredService<DatasetSchemaService>().SaveColumnsAsync(_f.Customers.Id, DatasetRebuilder.SettingsOf(_f.Customers), Ct)),
            ("dataset cleaning", sp => sp.GetRequiredService<DatasetRecipeService>().SaveAsync(_f.Customers.Id, [], Ct)),
            ("dataset relation", sp => sp.GetRequiredService<DatasetCatalog>().RelateAsync(_f.Orders.Id, "customer_id", _f.Customers.Id, "id", Ct)),
            ("segment refresh", sp => sp.GetRequiredService<SegmentService>().RefreshAsync(segment, Ct)),
            ("segment create", sp => sp.GetRequiredService<SegmentService>().CreateAsync(new SegmentDraft("New", _f.Customers.Id, new RuleTree()), Ct)),
            ("segment update", sp => sp.GetRequiredService<SegmentService>().UpdateAsync(segment, new SegmentDraft("All", _f.Customers.Id, new RuleTree()), Ct)),
            ("segment duplicate", sp => sp.GetRequiredService<SegmentService>().DuplicateAsync(segment, Ct)),
            ("segment delete", sp => sp.GetRequiredService<SegmentService>().DeleteAsync(segment, Ct)),
            ("segment share", sp => sp.GetRequiredService<SharingService>().ShareAsync(SharedItem.Segment, segment, null, Roles.Viewer, ShareLevel.Viewer, Ct)),
            ("share level", sp => sp.GetRequiredService<SharingService>().ChangeLevelAsync(share, ShareLevel.Editor, Ct)),
            ("unshare", sp => sp.GetRequiredService<SharingService>().UnshareAsync(share, Ct)),
            ("dashboard share", sp => sp.GetRequiredService<SharingService>().ShareAsync(SharedItem.Dashboard, board, null, Roles.Viewer, ShareLevel.Viewer, Ct)),
            ("folder share", sp => sp.GetRequiredService<SharingService>().ShareAsync(SharedItem.Folder, folder, null, Roles.Viewer, ShareLevel.Viewer, Ct)),
            ("folder create", sp => sp.GetRequiredService<DashboardFolders>().CreateFolderAsync("Another", Ct)),
            ("folder rename", sp => sp.GetRequiredService<DashboardFolders>().RenameFolderAsync(folder, "Renamed", Ct)),
            ("folder delete", sp => sp.GetRequiredService<DashboardFolders>().DeleteFolderAsync(folder, Ct)),
            ("dashboard move", sp => sp.GetRequiredService<DashboardFolders>().MoveAsync(board, folder, Ct)),
            ("dashboard create", sp => sp.GetRequiredService<DashboardService>().CreateAsync("Another", cancellationToken: Ct)),
            ("dashboard rename", sp => sp.GetRequiredService<DashboardService>().DescribeAsync(board, "Renamed", null, Ct)),
            ("dashboard watermark", sp => sp.GetRequiredService<DashboardService>().SetWatermarkAsync(board, true, Ct)),
            ("dashboard exports", sp => sp.GetRequiredService<DashboardService>().SetViewersMayExportAsync(board, true, Ct)),
            ("dashboard delete", sp => sp.GetRequiredService<DashboardService>().DeleteAsync(board, Ct)),
            ("public link", sp => sp.GetRequiredService<PublicLinkService>().CreateAsync(board, 7, Ct)),
            ("RFM run", sp => sp.GetRequiredService<RfmService>().ComputeAsync(_f.Orders.Id, new RfmInput(), RfmSettings.Default, Ct)),
            ("clustering run", sp => sp.GetRequiredService<ClusteringService>().StartAsync(new ClusteringRequest { Name = "Run", DatasetId = _f.Customers.Id, Features = [] }, Ct)),
            ("row rule", sp => sp.GetRequiredService<DataPermissionService>().SaveRowRuleAsync(_f.Customers.Id, null, Roles.Viewer, null, new RuleGroup(), Ct)),
            ("admins see all data", sp => sp.GetRequiredService<DataPermissionService>().SetAdminsSeeAllDataAsync(false, Ct)),
            ("disable a user", sp => sp.GetRequiredService<UserAdministration>().SetDisabledAsync(_f.NorthViewer.Id, true)),
        };

        var allowed = new List<string>();
        foreach (var (name, write) in writes)
        {
            await using var scope = _f.Harness.Services.CreateAsyncScope();
            try
            {
                await write(scope.ServiceProvider);
                allowed.Add($"{name}: allowed");
            }
            catch (PermissionDeniedException ex) when (ex.Message.Contains("viewing the portal as another user", StringComparison.Ordinal))
            {
            }
            catch (Exception ex)
            {
                allowed.Add($"{name}: {ex.GetType().Name} {ex.Message}");
            }
        }

        Assert.Empty(allowed);
        await using var db = await _f.Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        Assert.Equal(1, await db.SegmentSnapshots.CountAsync(s => s.SegmentId == segment, Ct));
        Assert.Equal(2, await db.DatasetGrants.CountAsync(g => g.DatasetId == _f.Customers.Id, Ct));
    }
}
