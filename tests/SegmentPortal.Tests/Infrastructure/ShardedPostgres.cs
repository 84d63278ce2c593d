using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace SegmentPortal.Tests.Infrastructure;

/// <summary>
/// A small sharded PostgreSQL, as Citus or a hand-built postgres_fdw setup has it: three servers from Debian's binaries
/// (/usr/lib/postgresql/N/bin), started in parallel as <see cref="PostgresServer"/> starts one — a coordinator and two
/// shards. Each shard holds one hash partition of the orders and of the customers (both by customer id, modulus 2, so a
/// customer's orders are on the customer's shard: co-located, as Citus distributes tables). The coordinator has
/// <c>postgres_fdw</c>, a foreign server and user mapping per shard, and partitioned <c>orders</c> and <c>customers</c>
/// tables whose partitions are FOREIGN TABLEs on the shards; partitionwise aggregation and joins are on in its
/// configuration, so a GROUP BY on the customer id, and a join of customers and orders on it, run on the shards. The rows
/// are <see cref="ShardedShopData"/>: generated in process, so a test can load the very same rows elsewhere (DuckDB) and compare answers. Without PostgreSQL
/// the tests are skipped with the reason, except under CI=true, where that is a failure (as <see cref="PostgresServer"/>).
/// </summary>
public sealed class ShardedPostgres : IAsyncLifetime
{
    public const string Database = "shop";
    public const string ReaderUser = "portal_reader";
    public const string ReaderPassword = "Reader-pass-2468";

    /// <summary>The login the coordinator's foreign servers use on the shards.</summary>
    private const string ShardUser = "shard_link";
    private const string ShardPassword = "Shard-link-9753";

    private readonly List<Node> _nodes = [];
    private string? _bin;

    public string? SkipReason { get; private set; }

    public ShardedShopData Data { get; } = ShardedShopData.Generate();

    /// <summary>The coordinator, where the portal connects.</summary>
    public int CoordinatorPort => _nodes[0].Port;

    /// <summary>The shards' ports, in partition order (remainder 0, then 1).</summary>
    public IReadOnlyList<int> ShardPorts => _nodes.Skip(1).Select(n => n.Port).ToList();

    /// <summary>The read-only login on the coordinator, over TCP with its password: how a portal connection reaches it.</summary>
    public string ReaderConnectionString() =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = CoordinatorPort, Username = ReaderUser, Password = ReaderPassword, Database = Database, Pooling = false,
        }.ConnectionString;

    /// <summary>The superuser over a server's unix socket (trust); node 0 is the coordinator, 1 and 2 the shards.</summary>
    public string AdminConnectionString(int node = 0, string database = Database) => _nodes[node].AdminConnectionString(database);

    public async ValueTask InitializeAsync()
    {
        _bin = FindBinaries();
        if (_bin is null)
        {
            Unavailable("PostgreSQL is not installed (apt-get install postgresql): no initdb under /usr/lib/postgresql/*/bin.");
            return;
        }
        if (!File.Exists(Path.Combine(Path.GetDirectoryName(_bin)!, "lib", "postgres_fdw.so")))
        {
            Unavailable("postgres_fdw is not installed with PostgreSQL (it ships in Debian's postgresql-N package).");
            return;
        }
        var asPostgres = Environment.IsPrivilegedProcess;
        if (asPostgres && !File.Exists("/usr/sbin/runuser") && !File.Exists("/sbin/runuser"))
        {
            Unavailable("Running as root, PostgreSQL must run as the postgres user, but runuser is missing.");
            return;
        }
        foreach (var role in new[] { "coordinator", "shard0", "shard1" })
        {
            _nodes.Add(new Node(_bin, role, asPostgres));
        }
        // initdb and start are most of the time: the three run side by side.
        await Task.WhenAll(_nodes.Select((node, i) => node.StartAsync(i == 0
            ? "-c enable_partitionwise_aggregate=on -c enable_partitionwise_join=on"
            : "")));
        await Task.WhenAll(_nodes.Skip(1).Select((node, i) => SetUpShardAsync(node, i)));
        await SetUpCoordinatorAsync();
        await LoadAsync();
    }

    /// <summary>Skips the calling test when there is no PostgreSQL (never under CI=true: InitializeAsync failed instead).</summary>
    public void Require() => Assert.SkipWhen(SkipReason is not null, SkipReason ?? "");

    /// <summary>Every line of a statement's result (EXPLAIN's plan), as the reader runs it on the coordinator.</summary>
    public async Task<string> ExplainAsync(string sql, IReadOnlyDictionary<string, object?> parameters)
    {
        await using var connection = new NpgsqlConnection(ReaderConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("EXPLAIN (VERBOSE, COSTS OFF) " + sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.Add(Parameter(name, value));
        }
        var plan = new StringBuilder();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            plan.AppendLine(reader.GetString(0));
        }
        return plan.ToString();
    }

    public Task<string> ExplainAsync(SegmentPortal.Core.Queries.CompiledQuery query) => ExplainAsync(query.Sql, query.Parameters);

    /// <summary>A compiled query's parameter for Npgsql: lists as arrays, the rest as they are.</summary>
    public static NpgsqlParameter Parameter(string name, object? value) => value switch
    {
        IReadOnlyList<string> texts => new NpgsqlParameter(name, texts.ToArray()),
        IReadOnlyList<double> numbers => new NpgsqlParameter(name, numbers.ToArray()),
        null => new NpgsqlParameter(name, DBNull.Value),
        _ => new NpgsqlParameter(name, value),
    };

    public async Task<T> ScalarAsync<T>(string sql, int node = 0)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString(node));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)Convert.ChangeType((await command.ExecuteScalarAsync())!, typeof(T), CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync() => await Task.WhenAll(_nodes.Select(n => n.StopAsync()));

    private void Unavailable(string reason)
    {
        if (PostgresServer.IsCi)
        {
            throw new InvalidOperationException($"CI=true but {reason.TrimEnd('.')}; .ci/run installs it with apt-get.");
        }
        SkipReason = reason;
    }

    private static async Task ExecuteAsync(string connectionString, params string[] statements)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var sql in statements)
        {
            await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 300 };
            await command.ExecuteNonQueryAsync();
        }
    }

    private const string OrdersColumns =
        "order_id bigint NOT NULL, customer_id integer NOT NULL, order_date date NOT NULL, amount numeric(12, 2), category text";

    private const string CustomersColumns =
        "customer_id integer NOT NULL, name text NOT NULL, region text, is_active boolean NOT NULL, signup_date date NOT NULL";

    /// <summary>A shard: its database, its partitions of the orders and customers (plain tables), and the login the coordinator uses.</summary>
    private static async Task SetUpShardAsync(Node shard, int remainder)
    {
        await ExecuteAsync(shard.AdminConnectionString("postgres"),
            $"CREATE DATABASE {Database}",
            $"CREATE ROLE {ShardUser} LOGIN PASSWORD '{ShardPassword}'");
        await ExecuteAsync(shard.AdminConnectionString(Database),
            $"CREATE TABLE orders_p{remainder} ({OrdersColumns}, PRIMARY KEY (order_id))",
            $"CREATE INDEX ON orders_p{remainder} (customer_id)",
            $"CREATE TABLE customers_p{remainder} ({CustomersColumns}, PRIMARY KEY (customer_id))",
            $"GRANT SELECT, INSERT ON orders_p{remainder}, customers_p{remainder} TO {ShardUser}");
    }

    /// <summary>
    /// The coordinator: postgres_fdw, a server and user mapping per shard (over TCP with the shard's password, remote
    /// estimates on, async scans so both shards work at once), orders and customers partitioned by hash of the customer id
    /// into the shards' foreign tables.
    /// </summary>
    private async Task SetUpCoordinatorAsync()
    {
        var coordinator = _nodes[0];
        await ExecuteAsync(coordinator.AdminConnectionString("postgres"),
            $"CREATE DATABASE {Database}",
            $"CREATE ROLE {ReaderUser} LOGIN PASSWORD '{ReaderPassword}'");
        var statements = new List<string>
        {
            "CREATE EXTENSION postgres_fdw",
            $"CREATE TABLE orders ({OrdersColumns}) PARTITION BY HASH (customer_id)",
            $"CREATE TABLE customers ({CustomersColumns}) PARTITION BY HASH (customer_id)",
        };
        for (var i = 0; i < 2; i++)
        {
            var port = _nodes[i + 1].Port;
            statements.Add($"CREATE SERVER shard{i} FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '{port}', dbname '{Database}', " +
                "use_remote_estimate 'true', fetch_size '10000', batch_size '1000', async_capable 'true')");
            statements.Add($"CREATE USER MAPPING FOR PUBLIC SERVER shard{i} OPTIONS (user '{ShardUser}', password '{ShardPassword}')");
            statements.Add($"CREATE FOREIGN TABLE orders_p{i} PARTITION OF orders FOR VALUES WITH (MODULUS 2, REMAINDER {i}) " +
                $"SERVER shard{i} OPTIONS (table_name 'orders_p{i}')");
            statements.Add($"CREATE FOREIGN TABLE customers_p{i} PARTITION OF customers FOR VALUES WITH (MODULUS 2, REMAINDER {i}) " +
                $"SERVER shard{i} OPTIONS (table_name 'customers_p{i}')");
        }
        statements.Add($"GRANT SELECT ON customers, orders TO {ReaderUser}");
        await ExecuteAsync(coordinator.AdminConnectionString(Database), [.. statements]);
    }

    /// <summary>
    /// Customers and orders by COPY into staging tables on the coordinator, then one INSERT … SELECT into each partitioned
    /// table, which routes each row to its shard in batches. Then statistics on every server.
    /// </summary>
    private async Task LoadAsync()
    {
        await using (var connection = new NpgsqlConnection(AdminConnectionString()))
        {
            await connection.OpenAsync();
            await using (var create = new NpgsqlCommand($"CREATE UNLOGGED TABLE customers_load ({CustomersColumns}); CREATE UNLOGGED TABLE orders_load ({OrdersColumns})", connection))
            {
                await create.ExecuteNonQueryAsync();
            }
            await using (var copy = await connection.BeginBinaryImportAsync("COPY customers_load (customer_id, name, region, is_active, signup_date) FROM STDIN (FORMAT BINARY)"))
            {
                foreach (var c in Data.Customers)
                {
                    await copy.StartRowAsync();
                    await copy.WriteAsync(c.CustomerId, NpgsqlDbType.Integer);
                    await copy.WriteAsync(c.Name, NpgsqlDbType.Text);
                    await WriteNullableAsync(copy, c.Region, NpgsqlDbType.Text);
                    await copy.WriteAsync(c.IsActive, NpgsqlDbType.Boolean);
                    await copy.WriteAsync(c.SignupDate, NpgsqlDbType.Date);
                }
                await copy.CompleteAsync();
            }
            await using (var copy = await connection.BeginBinaryImportAsync("COPY orders_load (order_id, customer_id, order_date, amount, category) FROM STDIN (FORMAT BINARY)"))
            {
                foreach (var o in Data.Orders)
                {
                    await copy.StartRowAsync();
                    await copy.WriteAsync(o.OrderId, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(o.CustomerId, NpgsqlDbType.Integer);
                    await copy.WriteAsync(o.OrderDate, NpgsqlDbType.Date);
                    await WriteNullableAsync(copy, o.Amount, NpgsqlDbType.Numeric);
                    await WriteNullableAsync(copy, o.Category, NpgsqlDbType.Text);
                }
                await copy.CompleteAsync();
            }
        }
        await ExecuteAsync(AdminConnectionString(),
            "INSERT INTO customers SELECT * FROM customers_load", "INSERT INTO orders SELECT * FROM orders_load", "DROP TABLE customers_load, orders_load");
        await Task.WhenAll(_nodes.Skip(1).Select((_, i) => ExecuteAsync(AdminConnectionString(i + 1), "ANALYZE")));
        await ExecuteAsync(AdminConnectionString(), "ANALYZE");
    }

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type) where T : class =>
        value is null ? copy.WriteNullAsync() : copy.WriteAsync(value, type);

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type) where T : struct =>
        value is { } v ? copy.WriteAsync(v, type) : copy.WriteNullAsync();

    internal static string? FindBinaries()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
        {
            return null;
        }
        return Directory.GetDirectories(root)
            .Select(dir => (Dir: Path.Combine(dir, "bin"), Version: int.TryParse(Path.GetFileName(dir), out var v) ? v : 0))
            .Where(x => File.Exists(Path.Combine(x.Dir, "initdb")) && File.Exists(Path.Combine(x.Dir, "pg_ctl")))
            .OrderByDescending(x => x.Version)
            .Select(x => x.Dir)
            .FirstOrDefault();
    }

    /// <summary>One server: a fresh cluster from initdb in a temp folder, pg_ctl on a free port of 127.0.0.1, its socket in the same folder.</summary>
    private sealed class Node(string bin, string role, bool asPostgres)
    {
        private readonly string _root = Path.Combine(Path.GetTempPath(), $"sp-pgshard-{role}-" + Guid.NewGuid().ToString("N")[..8]);
        private bool _started;

        public int Port { get; private set; }

        public string AdminConnectionString(string database) =>
            new NpgsqlConnectionStringBuilder { Host = _root, Port = Port, Username = "postgres", Database = database, Pooling = false }.ConnectionString;

        public async Task StartAsync(string settings)
        {
            Directory.CreateDirectory(_root);
            if (asPostgres)
            {
                await RunAsync("chown", ["postgres:postgres", _root], runAsPostgres: false);
            }
            var data = Path.Combine(_root, "data");
            await RunAsync(Path.Combine(bin, "initdb"),
                ["-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale", "-N"]);
            for (var attempt = 1; ; attempt++)
            {
                Port = PostgresServer.FreePort();
                try
                {
                    await RunAsync(Path.Combine(bin, "pg_ctl"),
                    [
                        "-D", data, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "60",
                        "-o", $"-p {Port} -k {_root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off " +
                              $"-c full_page_writes=off -c max_connections=30 -c shared_buffers=32MB {settings}",
                        "start",
                    ]);
                    _started = true;
                    return;
                }
                catch (InvalidOperationException) when (attempt < 3)
                {
                    // Someone took the port between our probe and the server's bind: try another.
                }
            }
        }

        public async Task StopAsync()
        {
            if (_started)
            {
                try
                {
                    await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", Path.Combine(_root, "data"), "-m", "immediate", "-w", "stop"]);
                }
                catch (InvalidOperationException)
                {
                    // Already gone; the folder is removed below all the same.
                }
            }
            try
            {
                if (Directory.Exists(_root))
                {
                    Directory.Delete(_root, recursive: true);
                }
            }
            catch (IOException)
            {
                // Left for the OS temp cleaner.
            }
        }

        private Task RunAsync(string executable, IReadOnlyList<string> arguments) => RunAsync(executable, arguments, asPostgres);

        private async Task RunAsync(string executable, IReadOnlyList<string> arguments, bool runAsPostgres)
        {
            var start = new ProcessStartInfo(runAsPostgres ? "runuser" : executable)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = _root,
            };
            if (runAsPostgres)
            {
                foreach (var a in new[] { "-u", "postgres", "--", executable })
                {
                    start.ArgumentList.Add(a);
                }
            }
            foreach (var a in arguments)
            {
                start.ArgumentList.Add(a);
            }
            start.Environment["LC_ALL"] = "C";
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {executable}.");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            await process.WaitForExitAsync(timeout.Token);
            if (process.ExitCode != 0)
            {
                var log = File.Exists(Path.Combine(_root, "server.log")) ? await File.ReadAllTextAsync(Path.Combine(_root, "server.log")) : "";
                throw new InvalidOperationException(
                    $"{role}: {Path.GetFileName(executable)} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await stdout}{await stderr}\n{log}");
            }
        }
    }
}

/// <summary>
/// The shop the sharded tests read, generated in process from a fixed seed: customers (a fifth without a region, a third
/// inactive) and their orders over two years before <see cref="Today"/> (every 50th without an amount, every 40th without
/// a category; a tenth of the customers never ordered).
/// </summary>
public sealed class ShardedShopData
{
    public static readonly DateOnly Today = new(2024, 6, 15);

    public const int CustomerCount = 3000;
    public const int OrderCount = 30000;

    public static readonly string?[] Regions = ["North", "South", "East", "West", null];
    public static readonly string[] Categories = ["Books", "Toys", "Garden", "Electronics", "Food"];

    public sealed record Customer(int CustomerId, string Name, string? Region, bool IsActive, DateOnly SignupDate);

    public sealed record Order(long OrderId, int CustomerId, DateOnly OrderDate, decimal? Amount, string? Category);

    public required IReadOnlyList<Customer> Customers { get; init; }

    public required IReadOnlyList<Order> Orders { get; init; }

    public static ShardedShopData Generate()
    {
        var customers = Enumerable.Range(1, CustomerCount).Select(i =>
        {
            var h = Mix((ulong)i);
            return new Customer(i, $"Customer {i}", Regions[(int)(h % 5)], h % 3 != 0, Today.AddDays(-(int)(h % 1500) - 1));
        }).ToList();
        var orders = Enumerable.Range(1, OrderCount).Select(i =>
        {
            var h = Mix((ulong)i + 1_000_003);
            var amount = i % 50 == 0 ? (decimal?)null : (h % 200_000) / 100m;
            var category = i % 40 == 0 ? null : Categories[(int)(h / 7 % 5)];
            // Customers 1..2700 order; the last tenth never do.
            return new Order(i, 1 + (int)(h / 11 % (CustomerCount * 9 / 10)), Today.AddDays(-(int)(h / 13 % 730)), amount, category);
        }).ToList();
        return new ShardedShopData { Customers = customers, Orders = orders };
    }

    /// <summary>SplitMix64's finalizer: a fixed, well-spread value per index.</summary>
    private static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB;
        return x ^ (x >> 31);
    }
}

[CollectionDefinition(Name)]
public sealed class ShardedPostgresCollection : ICollectionFixture<ShardedPostgres>
{
    public const string Name = "sharded-postgres";
}
