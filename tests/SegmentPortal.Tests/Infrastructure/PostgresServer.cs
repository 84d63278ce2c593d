using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace SegmentPortal.Tests.Infrastructure;

/// <summary>
/// A real PostgreSQL server for the connection tests: Debian's binaries (/usr/lib/postgresql/N/bin), a fresh cluster
/// from initdb in a temp folder, started with pg_ctl on a free port on 127.0.0.1 (its unix socket in the same folder),
/// seeded with a small shop (customers, orders, a schema, a view, a login with a password), then stopped and deleted.
/// initdb refuses to run as root, so as root the server runs as the postgres OS user. Without PostgreSQL the tests
/// are skipped with the reason, except under CI=true, where that is a failure.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string Database = "shop";
    public const string ReaderUser = "portal_reader";
    public const string ReaderPassword = "Reader-pass-2468";
    public const int CustomerCount = 2000;
    public const int OrderCount = 5000;

    private string? _root;
    private string? _bin;
    private bool _runAsPostgres;
    private bool _started;

    public int Port { get; private set; }

    public string? SkipReason { get; private set; }

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The superuser over the unix socket (trust): for seeding and for checking what the portal did.</summary>
    public string AdminConnectionString(string database = Database) =>
        new NpgsqlConnectionStringBuilder { Host = _root, Port = Port, Username = "postgres", Database = database, Pooling = false }.ConnectionString;

    public async ValueTask InitializeAsync()
    {
        _bin = FindBinaries();
        if (_bin is null)
        {
            Unavailable("PostgreSQL is not installed (apt-get install postgresql): no initdb under /usr/lib/postgresql/*/bin.");
            return;
        }
        _runAsPostgres = Environment.IsPrivilegedProcess;
        if (_runAsPostgres && !File.Exists("/usr/sbin/runuser") && !File.Exists("/sbin/runuser"))
        {
            Unavailable("Running as root, PostgreSQL must run as the postgres user, but runuser is missing.");
            return;
        }

        _root = Path.Combine(Path.GetTempPath(), "sp-pg-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(_root);
        if (_runAsPostgres)
        {
            await RunAsync("chown", ["postgres:postgres", _root], asPostgres: false);
        }
        var data = Path.Combine(_root, "data");
        await RunAsync(Path.Combine(_bin, "initdb"),
            ["-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale", "-N"]);

        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            try
            {
                await RunAsync(Path.Combine(_bin, "pg_ctl"),
                [
                    "-D", data, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "60",
                    "-o", $"-p {Port} -k {_root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off " +
                          "-c full_page_writes=off -c max_connections=40 -c shared_buffers=32MB",
                    "start",
                ]);
                _started = true;
                break;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                // Someone took the port between our probe and the server's bind: try another.
            }
        }
        await SeedAsync();
    }

    /// <summary>Skips the calling test when there is no server (never under CI=true: InitializeAsync failed instead).</summary>
    public void Require() => Assert.SkipWhen(SkipReason is not null, SkipReason ?? "");

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)Convert.ChangeType((await command.ExecuteScalarAsync())!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        if (_started && _bin is not null && _root is not null)
        {
            try
            {
                await RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_root, "data"), "-m", "immediate", "-w", "stop"]);
            }
            catch (InvalidOperationException)
            {
                // Already gone; the folder is removed below all the same.
            }
        }
        if (_root is not null)
        {
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
                // Left for the OS temp cleaner.
            }
        }
    }

    private void Unavailable(string reason)
    {
        if (IsCi)
        {
            throw new InvalidOperationException($"CI=true but {reason.TrimEnd('.')}; .ci/run installs it with apt-get.");
        }
        SkipReason = reason;
    }

    private async Task SeedAsync()
    {
        await using (var server = new NpgsqlConnection(AdminConnectionString("postgres")))
        {
            await server.OpenAsync();
            // CREATE DATABASE may not share a batch (an implicit transaction) with anything else.
            foreach (var sql in new[] { $"CREATE DATABASE {Database}", $"CREATE ROLE {ReaderUser} LOGIN PASSWORD '{ReaderPassword}'" })
            {
                await using var create = new NpgsqlCommand(sql, server);
                await create.ExecuteNonQueryAsync();
            }
        }
        await using var shop = new NpgsqlConnection(AdminConnectionString());
        await shop.OpenAsync();
        await using var seed = new NpgsqlCommand($"""
            CREATE TABLE customers (
                id integer PRIMARY KEY,
                name text NOT NULL,
                email text,
                city text,
                signup_date date NOT NULL,
                credit_limit numeric(12, 2),
                score double precision,
                is_active boolean NOT NULL,
                external_id uuid NOT NULL,
                profile jsonb,
                updated_at timestamptz NOT NULL);
            INSERT INTO customers
            SELECT g,
                   (ARRAY['Zoë Müller', 'Łukasz Żółć', '東京 太郎', 'Renée O''Brien', 'José 🚀'])[1 + g % 5] || ' #' || g,
                   CASE WHEN g % 7 = 0 THEN NULL ELSE 'customer' || g || '@example.com' END,
                   (ARRAY['Zürich', 'Kraków', 'São Paulo', 'Москва', NULL])[1 + g % 5],
                   DATE '2020-01-01' + g % 1500,
                   CASE WHEN g % 10 = 0 THEN NULL ELSE round((g * 37.25) % 10000, 2) END,
                   (g % 100) / 7.0,
                   g % 3 <> 0,
                   md5(g::text)::uuid,
                   jsonb_build_object('tier', g % 4),
                   TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * interval '1 hour'
            FROM generate_series(1, {CustomerCount}) AS g;

            CREATE TABLE orders (
                id bigint PRIMARY KEY,
                customer_id integer NOT NULL REFERENCES customers (id),
                ordered_at timestamptz NOT NULL,
                amount numeric(12, 2) NOT NULL,
                quantity smallint NOT NULL,
                discount numeric,
                note text);
            INSERT INTO orders
            SELECT g, 1 + g % {CustomerCount}, TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * interval '37 minutes',
                   round(((g * 7919) % 100000) / 100.0, 2), 1 + g % 5,
                   CASE WHEN g % 4 = 0 THEN NULL ELSE (g % 30) / 100.0 END,
                   CASE WHEN g % 5 = 0 THEN 'Geschenk 🎁' END
            FROM generate_series(1, {OrderCount}) AS g;

            CREATE SCHEMA sales;
            CREATE TABLE sales."Targets 2025" (region text, target numeric(14, 2));
            INSERT INTO sales."Targets 2025" VALUES ('Nord', 1000.50), ('Süd', NULL);
            CREATE VIEW big_customers AS SELECT * FROM customers WHERE credit_limit > 5000;
            CREATE TABLE secrets (x integer);

            -- A function that writes: only the read-only transaction stands in its way.
            CREATE TABLE audit_log (id serial PRIMARY KEY, note text);
            CREATE FUNCTION touch_audit() RETURNS integer LANGUAGE sql AS $$ INSERT INTO audit_log (note) VALUES ('touched') RETURNING id $$;

            GRANT USAGE ON SCHEMA sales TO {ReaderUser};
            GRANT SELECT ON customers, orders, big_customers, sales."Targets 2025", audit_log TO {ReaderUser};
            -- More than a read-only login should have, so the tests show the portal itself refuses to write.
            GRANT INSERT ON audit_log TO {ReaderUser};
            GRANT USAGE ON SEQUENCE audit_log_id_seq TO {ReaderUser};
            GRANT DELETE ON orders TO {ReaderUser};
            ANALYZE;
            """, shop);
        await seed.ExecuteNonQueryAsync();
    }

    private Task RunAsync(string executable, IReadOnlyList<string> arguments) => RunAsync(executable, arguments, _runAsPostgres);

    private async Task RunAsync(string executable, IReadOnlyList<string> arguments, bool asPostgres)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // The postgres user may not be allowed into the test's own folder.
            WorkingDirectory = _root ?? Path.GetTempPath(),
        };
        if (asPostgres)
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
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        output.Append(await stdout).Append(await stderr);
        if (process.ExitCode != 0)
        {
            var log = _root is not null && File.Exists(Path.Combine(_root, "server.log"))
                ? await File.ReadAllTextAsync(Path.Combine(_root, "server.log"))
                : "";
            throw new InvalidOperationException(
                $"{Path.GetFileName(executable)} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{output}\n{log}");
        }
    }

    private static string? FindBinaries()
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

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}
