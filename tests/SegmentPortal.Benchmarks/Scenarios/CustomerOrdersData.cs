using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Benchmarks.Framework;
using SegmentPortal.Benchmarks.Hosting;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Import;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Benchmarks.Scenarios;

/// <summary>
/// The customer list and its orders that <c>segment-count</c> and <c>dashboard</c> read, prepared the way a user would:
/// N orders and N/10 customers generated once (<see cref="CustomerOrdersCsvGenerator"/>), imported through the app's own
/// import job, given their roles (Customer ID; order date and amount, so the orders are a transaction log) and related
/// (orders.customer_id → customers.customer_id, so the customers' facts come from the orders). The prepared data folder
/// is cached under <c>results/cache/segment-count-v1-N</c> (the name of its first user, kept so prepared folders stay
/// valid) and reused by later runs of either scenario. <see cref="OpenAsync"/> starts the app's services over it as an
/// Admin with the clock fixed on the orders' last day; import time is no part of any scenario.
/// </summary>
public sealed class CustomerOrdersData : IAsyncDisposable
{
    public const long DefaultOrders = 10_000_000;

    /// <summary>Part of the cache folder's name: bump it when the generator, the preparation or the roles change.</summary>
    private const string PreparationVersion = "v1";

    private const string ReadyMarker = "prepared.json";

    private CustomerOrdersData(
        WarehouseLimits limits, string folder, string customersCsv, string ordersCsv, PortalHost host, Dataset customers, Dataset orders, FactSource facts)
    {
        Limits = limits;
        Folder = folder;
        CustomersCsv = customersCsv;
        OrdersCsv = ordersCsv;
        Host = host;
        Warehouse = host.Services.GetRequiredService<DuckDbWarehouse>();
        Customers = customers;
        Orders = orders;
        Facts = facts;
    }

    /// <summary>The orders' last day: the app's "today".</summary>
    public static DateOnly Today => CustomerOrdersCsvGenerator.Today;

    public WarehouseLimits Limits { get; }

    public string Folder { get; }

    public string CustomersCsv { get; }

    public string OrdersCsv { get; }

    /// <summary>The app's services over the prepared data folder, as an Admin.</summary>
    public PortalHost Host { get; }

    /// <summary>The one DuckDB instance both sides of a comparison use.</summary>
    public DuckDbWarehouse Warehouse { get; }

    public Dataset Customers { get; }

    public Dataset Orders { get; }

    /// <summary>Where the customers' facts come from (the orders, through the relation).</summary>
    public FactSource Facts { get; }

    public long OrderRows => Orders.RowCount;

    public long CustomerRows => Customers.RowCount;

    /// <summary>
    /// Finds (or generates, imports and caches) the data for <c>--size</c> orders (default <see cref="DefaultOrders"/>),
    /// starts the app over it, checks it is set up as expected, sets the input label and notes the input and limits.
    /// </summary>
    public static Task<CustomerOrdersData> OpenAsync(ScenarioContext context, CancellationToken cancellationToken) =>
        OpenAsync(context, OrderShape.Uniform, cancellationToken);

    /// <summary>
    /// As <see cref="OpenAsync(ScenarioContext, CancellationToken)"/>, with orders of the given <paramref name="shape"/>:
    /// <see cref="OrderShape.Lifetimes"/> data is generated and cached apart (<c>results/cache/clv-v1-N</c>) and holds
    /// N/10 customers with about N orders (as many as their buying gave).
    /// </summary>
    public static async Task<CustomerOrdersData> OpenAsync(ScenarioContext context, OrderShape shape, CancellationToken cancellationToken)
    {
        WarehouseLimits limits;
        try
        {
            limits = WarehouseLimits.FromEnvironment();
        }
        catch (InvalidOperationException ex)
        {
            throw new ScenarioInputException(ex.Message);
        }
        var orderRows = context.Size ?? DefaultOrders;
        var customerRows = Math.Max(1, orderRows / 10);
        context.InputLabel = orderRows.ToString(CultureInfo.InvariantCulture);

        var folder = Path.Combine(context.Paths.Cache, $"{(shape == OrderShape.Lifetimes ? "clv" : "segment-count")}-{PreparationVersion}-{orderRows}");
        Directory.CreateDirectory(folder);
        var customersCsv = Path.Combine(folder, "customers.csv");
        var ordersCsv = Path.Combine(folder, "orders.csv");
        if (!File.Exists(customersCsv))
        {
            ScenarioContext.Log($"Generating {customerRows:N0} customers into {customersCsv}");
            await CustomerOrdersCsvGenerator.WriteCustomersAsync(customersCsv, customerRows, cancellationToken);
        }
        if (!File.Exists(ordersCsv))
        {
            ScenarioContext.Log($"Generating {(shape == OrderShape.Lifetimes ? "about " : "")}{orderRows:N0} orders into {ordersCsv}");
            var watch = Stopwatch.StartNew();
            var written = new Progress<long>(n => ScenarioContext.Log($"  {n:N0} orders written"));
            if (shape == OrderShape.Lifetimes)
            {
                await CustomerOrdersCsvGenerator.WriteLifetimeOrdersAsync(ordersCsv, customerRows, written, cancellationToken);
            }
            else
            {
                await CustomerOrdersCsvGenerator.WriteOrdersAsync(ordersCsv, orderRows, customerRows, written, cancellationToken);
            }
            ScenarioContext.Log($"Generated in {Format.Seconds(watch.Elapsed)}");
        }

        var portal = Path.Combine(folder, "portal");
        var marker = Path.Combine(folder, ReadyMarker);
        var clock = new FixedDayClock(Today);
        PortalHost host;
        if (!File.Exists(marker))
        {
            BenchmarkPaths.DeleteFolder(portal);
            ScenarioContext.Log("Importing both files through the app (once; the prepared data folder is cached)");
            var watch = Stopwatch.StartNew();
            host = await PortalHost.StartAsync(portal, limits, cancellationToken, Roles.Admin, clock);
            try
            {
                var prepared = await PrepareAsync(host, customersCsv, ordersCsv, cancellationToken);
                await File.WriteAllTextAsync(marker, JsonSerializer.Serialize(prepared), cancellationToken);
            }
            catch
            {
                await host.DisposeAsync();
                throw;
            }
            ScenarioContext.Log($"Prepared in {Format.Seconds(watch.Elapsed)}");
        }
        else
        {
            host = await PortalHost.StartAsync(portal, limits, cancellationToken, Roles.Admin, clock);
        }

        try
        {
            var ids = JsonSerializer.Deserialize<Prepared>(await File.ReadAllTextAsync(marker, cancellationToken))!;
            await using var scope = host.Services.CreateAsyncScope();
            var access = scope.ServiceProvider.GetRequiredService<Authorizer>();
            var customers = await access.RequireReadableAsync(ids.CustomersId, cancellationToken);
            var orders = await access.RequireReadableAsync(ids.OrdersId, cancellationToken);
            var facts = await scope.ServiceProvider.GetRequiredService<PermissionPolicy>().FactSourceAsync(customers, cancellationToken);
            if (customers.Kind != DatasetKind.Customers || orders.Kind != DatasetKind.Transactions || facts is null || facts.Orders.Id != orders.Id)
            {
                throw new InvalidOperationException(
                    $"The prepared datasets are not set up as expected (customers {customers.Kind}, orders {orders.Kind}, fact source " +
                    $"{facts?.Orders.Name ?? "none"}); delete {folder} and run again.");
            }
            if (customers.RowCount != customerRows || (shape == OrderShape.Uniform ? orders.RowCount != orderRows : orders.RowCount == 0))
            {
                throw new InvalidOperationException($"The prepared datasets hold {customers.RowCount:N0} customers and {orders.RowCount:N0} orders; delete {folder} and run again.");
            }

            var data = new CustomerOrdersData(limits, folder, customersCsv, ordersCsv, host, customers, orders, facts);
            context.Note($"Input: {Format.Rows(customerRows)} customers ({Format.Megabytes(new FileInfo(customersCsv).Length)} MB CSV) and " +
                $"{Format.Rows(orders.RowCount)} orders ({Format.Megabytes(new FileInfo(ordersCsv).Length)} MB CSV), seeded, in {folder}; imported " +
                $"through the app's import job, warehouse file {Format.Megabytes(new FileInfo(data.Warehouse.FilePath).Length)} MB.");
            context.Note($"Customers ({customers.TableName}, {customers.Kind}): {Columns(customers)}");
            context.Note($"Orders ({orders.TableName}, {orders.Kind}): {Columns(orders)}; related {facts.CustomerKey} → customers.customer_id; " +
                $"facts use date {facts.Date}, amount {facts.Amount}, order id {facts.OrderId ?? "none (an order is a row)"}.");
            context.Note($"DuckDB limits (one instance, both sides): threads = {await data.Warehouse.GetSettingAsync("threads", cancellationToken)}, " +
                $"memory_limit = {await data.Warehouse.GetSettingAsync("memory_limit", cancellationToken)}. Machine: {Environment.ProcessorCount} cores. " +
                $"App clock fixed on {Today:yyyy-MM-dd} (the orders' last day), user: Admin, query time limit " +
                $"{host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<QueryOptions>>().Value.TimeoutSeconds} s.");
            return data;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync() => Host.DisposeAsync();

    /// <summary>Imports both files as the app does, sets the roles a user would set and relates orders to customers.</summary>
    private static async Task<Prepared> PrepareAsync(PortalHost host, string customersCsv, string ordersCsv, CancellationToken cancellationToken)
    {
        var customers = await ImportAsync(host, customersCsv, "Customers", cancellationToken);
        var orders = await ImportAsync(host, ordersCsv, "Orders", cancellationToken);
        await using var scope = host.Services.CreateAsyncScope();
        await SetRolesAsync(scope.ServiceProvider, customers, new Dictionary<string, FieldRole>
        {
            ["customer_id"] = FieldRole.CustomerId,
            ["region"] = FieldRole.Dimension,
            ["tier"] = FieldRole.Dimension,
        }, cancellationToken);
        await SetRolesAsync(scope.ServiceProvider, orders, new Dictionary<string, FieldRole>
        {
            ["customer_id"] = FieldRole.CustomerId,
            ["order_date"] = FieldRole.EventDate,
            ["amount"] = FieldRole.Amount,
            ["category"] = FieldRole.Dimension,
        }, cancellationToken);
        await scope.ServiceProvider.GetRequiredService<DatasetCatalog>()
            .RelateAsync(orders, "customer_id", customers, "customer_id", cancellationToken);
        return new Prepared(customers, orders);
    }

    private static async Task<int> ImportAsync(PortalHost host, string csv, string name, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        StoredUpload upload;
        await using (var content = new FileStream(csv, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true))
        {
            upload = await host.Services.GetRequiredService<UploadStore>().SaveAsync(content, Path.GetFileName(csv), host.UserId, null, cancellationToken);
        }
        await using var scope = host.Services.CreateAsyncScope();
        var runner = scope.ServiceProvider.GetRequiredService<DatasetImportRunner>();
        string? message = null;
        await runner.RunAsync(host.User, [upload], new FileImportRequest([upload.Id], Name: name),
            new InlineProgress(p => message = p.Message), cancellationToken);
        await using var db = await host.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(cancellationToken);
        var id = await db.Datasets.Where(d => d.Name == name).Select(d => d.Id).SingleAsync(cancellationToken);
        ScenarioContext.Log($"  {message} ({Format.Seconds(watch.Elapsed)})");
        return id;
    }

    /// <summary>Sets roles on a dataset's columns as its Columns &amp; roles tab does (no structural change, so no rebuild).</summary>
    private static async Task SetRolesAsync(
        IServiceProvider services, int datasetId, IReadOnlyDictionary<string, FieldRole> roles, CancellationToken cancellationToken)
    {
        var dataset = await services.GetRequiredService<Authorizer>().RequireWritableAsync(datasetId, cancellationToken);
        var settings = DatasetRebuilder.SettingsOf(dataset);
        var missing = roles.Keys.Except(settings.Select(s => s.Name)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException($"{dataset.Name} has no column {string.Join(", ", missing)}.");
        }
        var saved = await services.GetRequiredService<DatasetSchemaService>().SaveColumnsAsync(datasetId,
            settings.Select(s => roles.TryGetValue(s.Name, out var role) ? s with { Role = role } : s).ToList(), cancellationToken);
        ScenarioContext.Log($"  {saved.Name}: roles set, kind {saved.Kind}");
    }

    private static string Columns(Dataset dataset) => string.Join(", ", dataset.Columns.Where(c => !c.IsExcluded).OrderBy(c => c.Ordinal)
        .Select(c => $"{c.Name} {c.WarehouseType}{(c.Role == FieldRole.None ? "" : $" ({c.Role})")}"));

    private sealed record Prepared(int CustomersId, int OrdersId);

    /// <summary>How the generated orders fall over time.</summary>
    public enum OrderShape
    {
        /// <summary>At uniformly random times, leaning on the first customers (<see cref="CustomerOrdersCsvGenerator.WriteOrdersAsync"/>).</summary>
        Uniform,

        /// <summary>As customers who buy and leave as BG/NBD assumes (<see cref="CustomerOrdersCsvGenerator.WriteLifetimeOrdersAsync"/>).</summary>
        Lifetimes,
    }

    private sealed class InlineProgress(Action<JobProgress> report) : IProgress<JobProgress>
    {
        public void Report(JobProgress value) => report(value);
    }

    /// <summary>The app's clock on one fixed day (from noon UTC, ticking), so relative windows count back from the data's last day.</summary>
    private sealed class FixedDayClock(DateOnly day) : TimeProvider
    {
        private readonly DateTimeOffset _start = new(day.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero);
        private readonly long _started = Stopwatch.GetTimestamp();

        public override DateTimeOffset GetUtcNow() => _start + Stopwatch.GetElapsedTime(_started);

        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
    }
}
