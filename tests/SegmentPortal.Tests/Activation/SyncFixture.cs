using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using SegmentPortal.Core.Activation;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Delivery;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Activation;

/// <summary>
/// The data the sync tests send, over a real SQLite metadata file and a real DuckDB warehouse (in Development, so
/// webhooks may go to this machine): 40 customers (customer_id 1–40, email, region alternating North/South, spend =
/// id × 10), an Admin who made the webhook endpoints and connections, and a signed-in Analyst who owns the data, the
/// segment and the syncs. The segment's rule is changed between refreshes to move customers, as new data would.
/// </summary>
internal sealed class SyncFixture : IAsyncDisposable
{
    public const int Customers = 40;

    private SyncFixture(CoreHarness harness, Dataset dataset, AppUser admin, AppUser analyst)
    {
        Harness = harness;
        Dataset = dataset;
        Admin = admin;
        Analyst = analyst;
    }

    public CoreHarness Harness { get; }

    public Dataset Dataset { get; }

    public AppUser Admin { get; }

    public AppUser Analyst { get; }

    public SyncRunner Runner => Harness.Services.GetRequiredService<SyncRunner>();

    public static async Task<SyncFixture> CreateAsync(CancellationToken ct, IDictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Syncs:BatchSize"] = "4",
            ["Syncs:BatchAttempts"] = "1",
            ["Syncs:FirstRetrySeconds"] = "0",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }
        var harness = await CoreHarness.CreateAsync(values, configure: services =>
            services.AddSingleton<IHostEnvironment>(new DevelopmentEnvironment()));
        var admin = await harness.SignInAsNewUserAsync("admin@example.com", Roles.Admin);
        var analyst = await harness.CreateUserAsync("analyst@example.com", "Correct-horse-9", Roles.Analyst);
        harness.CurrentUser.Principal = CoreHarness.Principal(analyst.Id, "analyst@example.com", Roles.Analyst);
        var csv = new StringBuilder("customer_id,email,region,spend\n");
        for (var i = 1; i <= Customers; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{i},c{i}@example.com,{(i % 2 == 0 ? "North" : "South")},{i * 10}\n");
        }
        var dataset = await harness.ImportTextAsync("customers.csv", csv.ToString());
        dataset = await harness.SetRolesAsync(dataset, new()
        {
            ["customer_id"] = FieldRole.CustomerId,
            ["region"] = FieldRole.Dimension,
            ["spend"] = FieldRole.Amount,
        });
        return new SyncFixture(harness, dataset, admin, analyst);
    }

    public void AsAdmin() => Harness.CurrentUser.Principal = CoreHarness.Principal(Admin.Id, "admin@example.com", Roles.Admin);

    public void AsAnalyst() => Harness.CurrentUser.Principal = CoreHarness.Principal(Analyst.Id, "analyst@example.com", Roles.Analyst);

    /// <summary>Customers whose spend lies in [min, max].</summary>
    public static RuleTree Spend(int min, int max = int.MaxValue) => new()
    {
        Root = new RuleGroup
        {
            Children =
            [
                new FieldCondition { Field = "spend", Operator = RuleOperator.GreaterOrEqual, Value = min.ToString(CultureInfo.InvariantCulture) },
                new FieldCondition { Field = "spend", Operator = RuleOperator.LessOrEqual, Value = Math.Min(max, 1_000_000).ToString(CultureInfo.InvariantCulture) },
            ],
        },
    };

    /// <summary>The customer ids (as text) whose spend lies in [min, max].</summary>
    public static IReadOnlyList<string> Ids(int min, int max = int.MaxValue) =>
        Enumerable.Range(1, Customers).Where(i => i * 10 >= min && i * 10 <= max).Select(i => i.ToString(CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal).ToList();

    /// <summary>A segment over the customers (counted at once, as saving does).</summary>
    public Task<int> SegmentAsync(string name, RuleTree rule, CancellationToken ct) =>
        Harness.WithAsync<SegmentService, int>(s => s.CreateAsync(new SegmentDraft(name, Dataset.Id, rule), ct));

    /// <summary>New data, as far as the segment is concerned: its rule changes and it is recounted (which makes "after refresh" runs due).</summary>
    public Task ChangeAsync(int segmentId, string name, RuleTree rule, CancellationToken ct) =>
        Harness.WithAsync<SegmentService>(s => s.UpdateAsync(segmentId, new SegmentDraft(name, Dataset.Id, rule), ct));

    public async Task<CreatedWebhook> EndpointAsync(string url, CancellationToken ct)
    {
        AsAdmin();
        try
        {
            return await Harness.WithAsync<WebhookService, CreatedWebhook>(s => s.CreateAsync(new WebhookEndpointInput("Campaigns", url, WebhookFormat.StandardJson), ct));
        }
        finally
        {
            AsAnalyst();
        }
    }

    public Task<int> SyncAsync(int segmentId, SyncInput input, CancellationToken ct) =>
        Harness.WithAsync<SyncService, int>(s => s.CreateAsync(segmentId, input, ct));

    public Task<IReadOnlyList<SyncRunView>> HistoryAsync(int syncId, CancellationToken ct) =>
        Harness.WithAsync<SyncService, IReadOnlyList<SyncRunView>>(s => s.HistoryAsync(syncId, 50, ct));

    /// <summary>"Sync now", then every Due run, as the worker would.</summary>
    public async Task SyncNowAsync(int syncId, CancellationToken ct)
    {
        await Harness.WithAsync<SyncService, long>(s => s.RunNowAsync(syncId, ct));
        await Runner.RunDueAsync(ct);
    }

    public async Task SetHoldoutAsync(int segmentId, double share, string salt, CancellationToken ct)
    {
        await using var db = await Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(ct);
        await db.Segments.Where(s => s.Id == segmentId)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.HoldoutShare, share).SetProperty(x => x.HoldoutSalt, salt), ct);
    }

    public ValueTask DisposeAsync() => Harness.DisposeAsync();

    private sealed class DevelopmentEnvironment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = Environments.Development;

        public string ApplicationName { get; set; } = "SegmentPortal.Tests";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
