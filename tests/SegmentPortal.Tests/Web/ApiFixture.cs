using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Import;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Core.Users;
using SegmentPortal.Tests.Infrastructure;
using static SegmentPortal.Tests.Access.PermissionFixture;

namespace SegmentPortal.Tests.Web;

/// <summary>The kinds of caller the REST API's permission cases run as (<see cref="ApiPermissionMatrixTests"/>).</summary>
public enum ApiAudience
{
    /// <summary>The Analyst who owns the datasets, segments and board; an all-rows rule of their own.</summary>
    Owner,

    /// <summary>An Analyst the segments and board are shared with as Editor, with <c>region = {user.Region}</c> (North).</summary>
    Editor,

    /// <summary>An Analyst they are shared with as Viewer, with an all-rows rule: every row, read-only items.</summary>
    ViewShare,

    /// <summary>The North Analyst: North rows only (a read-only share).</summary>
    RowRuled,

    /// <summary>A Viewer with an all-rows rule: every row, under the Viewers' column rules (e-mail masked, phone hidden, credit limit hashed).</summary>
    ColumnRuled,

    /// <summary>The North Viewer: North rows, under the Viewers' column rules.</summary>
    Viewer,

    /// <summary>A North Viewer whose account was disabled after they signed in.</summary>
    Revoked,
}

/// <summary>
/// The real web host with <see cref="Access.PermissionFixture"/>'s customers and orders, their data rules, the owner's
/// segments and board shared with the other users, a larger customer list of the owner's for paging, and a signed-in
/// <see cref="ApiSession"/> for every <see cref="ApiAudience"/>.
/// </summary>
public sealed class ApiFixture : IAsyncLifetime
{
    public const string Password = "Api-pass-13579";

    /// <summary>Customers of <see cref="Big"/>: enough for several pages of members.</summary>
    public const int BigCustomers = 2345;

    public PortalFactory Factory { get; } = new();

    public AppUser Owner { get; private set; } = null!;

    public AppUser Editor { get; private set; } = null!;

    public AppUser ViewSharer { get; private set; } = null!;

    public AppUser NorthAnalyst { get; private set; } = null!;

    public AppUser MaskedViewer { get; private set; } = null!;

    public AppUser NorthViewer { get; private set; } = null!;

    public AppUser RevokedViewer { get; private set; } = null!;

    /// <summary>An Analyst granted the datasets but given no row rule and no share: sees no rows and no segment or board.</summary>
    public AppUser Stranger { get; private set; } = null!;

    public Dataset Customers { get; private set; } = null!;

    public Dataset Orders { get; private set; } = null!;

    /// <summary>The owner's customer list of <see cref="BigCustomers"/> customers (no data rules), in no particular order.</summary>
    public Dataset Big { get; private set; } = null!;

    /// <summary>"Every city" over the customers (all five), shared; refreshed once (when saved).</summary>
    public int Segment { get; private set; }

    /// <summary>The same rule, for the refresh cases.</summary>
    public int RefreshedSegment { get; private set; }

    /// <summary>The same rule, for the update cases.</summary>
    public int EditedSegment { get; private set; }

    /// <summary>The board "Regions": byRegion and byCategory (order amounts), people (customers' id, name, e-mail).</summary>
    public int Board { get; private set; }

    /// <summary>The key of hashed columns (credit limit for Viewers).</summary>
    public string HashKey { get; private set; } = "";

    private readonly Dictionary<ApiAudience, ApiSession> _sessions = [];

    public ApiSession Session(ApiAudience audience) => _sessions[audience];

    private readonly Dictionary<ApiAudience, ApiSession> _tokens = [];

    /// <summary>The audience's personal access token (every scope); the revoked audience's user was disabled after it was made.</summary>
    public ApiSession Token(ApiAudience audience) => _tokens[audience];

    public ApiSession StrangerSession { get; private set; } = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _ = Factory.Server;
        Owner = await Factory.CreateUserAsync("owner@api.test", Password, Roles.Analyst);
        Editor = await Factory.CreateUserAsync("editor@api.test", Password, Roles.Analyst);
        ViewSharer = await Factory.CreateUserAsync("view.share@api.test", Password, Roles.Analyst);
        NorthAnalyst = await Factory.CreateUserAsync("north.analyst@api.test", Password, Roles.Analyst);
        MaskedViewer = await Factory.CreateUserAsync("masked@api.test", Password, Roles.Viewer);
        NorthViewer = await Factory.CreateUserAsync("north@api.test", Password, Roles.Viewer);
        RevokedViewer = await Factory.CreateUserAsync("revoked@api.test", Password, Roles.Viewer);
        Stranger = await Factory.CreateUserAsync("stranger@api.test", Password, Roles.Analyst);

        Customers = await ImportAsync("customers.csv", CustomersCsv);
        Orders = await ImportAsync("orders.csv", OrdersCsv);
        Customers = await SetRolesAsync(Customers, new() { ["id"] = FieldRole.CustomerId, ["region"] = FieldRole.Dimension, ["city"] = FieldRole.Dimension });
        Orders = await SetRolesAsync(Orders, new()
        {
            ["order_id"] = FieldRole.OrderId, ["customer_id"] = FieldRole.CustomerId, ["order_date"] = FieldRole.EventDate,
            ["amount"] = FieldRole.Amount, ["category"] = FieldRole.Dimension, ["region"] = FieldRole.Dimension,
        });
        Big = await ImportAsync("big.csv", BigCsv(BigCustomers));
        Big = await SetRolesAsync(Big, new() { ["customer"] = FieldRole.CustomerId, ["region"] = FieldRole.Dimension });
        foreach (var dataset in new[] { Customers, Orders })
        {
            await AsOwnerAsync<DatasetSharing>(s => s.SetAsync(dataset.Id, [Roles.Viewer, Roles.Analyst], [], Ct));
        }

        await using (var db = await Factory.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            var allRows = new RuleTree { Root = new RuleGroup() }.ToJson();
            foreach (var user in new[] { NorthViewer, RevokedViewer, NorthAnalyst, Editor })
            {
                db.UserAttributes.Add(new UserAttribute { UserId = user.Id, Name = "Region", Value = "North" });
            }
            foreach (var dataset in new[] { Customers.Id, Orders.Id })
            {
                db.RowRules.AddRange(
                    new RowRule { DatasetId = dataset, Role = Roles.Viewer, RuleJson = RegionOfUser() },
                    new RowRule { DatasetId = dataset, UserId = NorthAnalyst.Id, RuleJson = RegionOfUser() },
                    new RowRule { DatasetId = dataset, UserId = Editor.Id, RuleJson = RegionOfUser() },
                    new RowRule { DatasetId = dataset, UserId = Owner.Id, RuleJson = allRows },
                    new RowRule { DatasetId = dataset, UserId = ViewSharer.Id, RuleJson = allRows },
                    new RowRule { DatasetId = dataset, UserId = MaskedViewer.Id, RuleJson = allRows });
            }
            db.ColumnRules.AddRange(
                new ColumnRule { DatasetId = Customers.Id, Column = "email", Role = Roles.Viewer, Treatment = ColumnTreatment.Masked },
                new ColumnRule { DatasetId = Customers.Id, Column = "phone", Role = Roles.Viewer, Treatment = ColumnTreatment.Hidden },
                new ColumnRule { DatasetId = Customers.Id, Column = "credit_limit", Role = Roles.Viewer, Treatment = ColumnTreatment.Hashed });
            await db.SaveChangesAsync(Ct);
        }

        var everyCity = new RuleTree { Root = new RuleGroup { Children = [new FieldCondition { Field = "city", Operator = RuleOperator.IsNotEmpty }] } };
        Segment = await AsOwnerAsync<SegmentService, int>(s => s.CreateAsync(new SegmentDraft("Every city", Customers.Id, everyCity), Ct));
        RefreshedSegment = await AsOwnerAsync<SegmentService, int>(s => s.CreateAsync(new SegmentDraft("Refreshed by others", Customers.Id, everyCity.Clone()), Ct));
        EditedSegment = await AsOwnerAsync<SegmentService, int>(s => s.CreateAsync(new SegmentDraft("Edited by others", Customers.Id, everyCity.Clone()), Ct));

        Board = await AsOwnerAsync<DashboardService, int>(s => s.CreateAsync("Regions", cancellationToken: Ct));
        foreach (var tile in new[]
        {
            Chart("byRegion", TileType.Bar, Orders.Id, ["region"], new TileMeasure(TileMeasureKind.Sum, "amount")) with { Title = "By region" },
            Chart("byCategory", TileType.Bar, Orders.Id, ["category"], new TileMeasure(TileMeasureKind.Sum, "amount")) with { Title = "By category" },
            Chart("people", TileType.Table, Customers.Id, ["id", "name", "email"]) with { Title = "People" },
        })
        {
            await AsOwnerAsync<DashboardService, DashboardView>(s => s.AddTileAsync(Board, tile, cancellationToken: Ct));
        }

        foreach (var (item, id) in new[] { (SharedItem.Dashboard, Board), (SharedItem.Segment, Segment), (SharedItem.Segment, RefreshedSegment), (SharedItem.Segment, EditedSegment) })
        {
            await AsOwnerAsync<SharingService>(async s =>
            {
                await s.ShareAsync(item, id, null, Roles.Viewer, ShareLevel.Viewer, Ct);
                await s.ShareAsync(item, id, NorthAnalyst.Id, null, ShareLevel.Viewer, Ct);
                await s.ShareAsync(item, id, ViewSharer.Id, null, ShareLevel.Viewer, Ct);
                await s.ShareAsync(item, id, Editor.Id, null, ShareLevel.Editor, Ct);
            });
        }
        HashKey = await AsOwnerAsync<PortalSettings, string>(s => s.HashKeyAsync(Ct));

        foreach (var (audience, user) in new[]
        {
            (ApiAudience.Owner, Owner), (ApiAudience.Editor, Editor), (ApiAudience.ViewShare, ViewSharer), (ApiAudience.RowRuled, NorthAnalyst),
            (ApiAudience.ColumnRuled, MaskedViewer), (ApiAudience.Viewer, NorthViewer), (ApiAudience.Revoked, RevokedViewer),
        })
        {
            _sessions[audience] = await ApiSession.SignInAsync(Factory, user.Email!, Password);
            _tokens[audience] = await ApiSession.WithTokenAsync(Factory, user);
        }
        StrangerSession = await ApiSession.SignInAsync(Factory, Stranger.Email!, Password);
        // Disabled after signing in and making a token, as Admin > Users does it: the session (and its antiforgery token) and
        // the token are still held,
        // its user no longer allowed.
        string adminId;
        await using (var scope = Factory.Services.CreateAsyncScope())
        {
            adminId = (await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(PortalFactory.AdminEmail))!.Id;
        }
        await Factory.AsUserAsync<UserAdministration>(adminId, PortalFactory.AdminEmail, [Roles.Admin], u => u.SetDisabledAsync(RevokedViewer.Id, true));
    }

    public ValueTask DisposeAsync() => Factory.DisposeAsync();

    /// <summary>Customers <c>customer</c> 1..n with a region and a name, written in a shuffled order.</summary>
    public static string BigCsv(int count, Func<int, bool>? keep = null)
    {
        var text = new StringBuilder("customer,name,region\n");
        string[] regions = ["North", "South", "East"];
        foreach (var id in Enumerable.Range(1, count).OrderBy(i => (i * 7919) % count).Where(i => keep?.Invoke(i) ?? true))
        {
            text.Append(FormattableString.Invariant($"{id},Customer {id},{regions[id % 3]}\n"));
        }
        return text.ToString();
    }

    public Task<T> AsOwnerAsync<TService, T>(Func<TService, Task<T>> action) where TService : notnull => AsAsync(Owner, Roles.Analyst, action);

    public Task AsOwnerAsync<TService>(Func<TService, Task> action) where TService : notnull =>
        AsAsync<TService, bool>(Owner, Roles.Analyst, async s => { await action(s); return true; });

    public async Task<T> AsAsync<TService, T>(AppUser user, string role, Func<TService, Task<T>> action) where TService : notnull
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<ScopedPrincipal>().Principal = CoreHarness.Principal(user.Id, user.Email!, role);
        return await action(scope.ServiceProvider.GetRequiredService<TService>());
    }

    /// <summary>Imports a CSV as the owner (a new dataset, or a new version of <paramref name="refreshDatasetId"/>), as the import job does.</summary>
    public async Task<Dataset> ImportAsync(string fileName, string csv, int? refreshDatasetId = null)
    {
        var uploads = Factory.Services.GetRequiredService<UploadStore>();
        var upload = await uploads.SaveAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv)), fileName, Owner.Id, null, Ct);
        var file = await uploads.GetAsync(upload.Id, Owner.Id, Ct);
        await AsOwnerAsync<DatasetImportRunner>(r => r.RunAsync(CoreHarness.Principal(Owner.Id, Owner.Email!, Roles.Analyst), [file],
            new FileImportRequest([upload.Id], RefreshDatasetId: refreshDatasetId), new Progress<JobProgress>(), Ct));
        await using var db = await Factory.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        return refreshDatasetId is { } id
            ? await db.Datasets.AsNoTracking().Include(d => d.Columns).SingleAsync(d => d.Id == id, Ct)
            : await db.Datasets.AsNoTracking().Include(d => d.Columns).OrderByDescending(d => d.Id).FirstAsync(Ct);
    }

    private Task<Dataset> SetRolesAsync(Dataset dataset, Dictionary<string, FieldRole> roles) =>
        AsOwnerAsync<DatasetSchemaService, Dataset>(s => s.SaveColumnsAsync(dataset.Id,
            DatasetRebuilder.SettingsOf(dataset).Select(c => c with { Role = roles.GetValueOrDefault(c.Name) }).ToList(), Ct));
}
