using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using SegmentPortal.Benchmarks.Framework;

namespace SegmentPortal.Benchmarks.Hosting;

/// <summary>
/// A throwaway PostgreSQL server for the sync benchmark, as the test suite starts one: Debian's binaries
/// (/usr/lib/postgresql/N/bin), initdb in a work folder, pg_ctl on a free port of 127.0.0.1 (its socket in the same
/// folder), durability settings off on both sides alike; as root the server runs as the postgres OS user. Stopped and
/// deleted on dispose.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    public const string Database = "crm";
    public const string Writer = "sync_writer";
    public const string WriterPassword = "Writer-pass-1357";

    private readonly string _root;
    private readonly string _bin;
    private readonly bool _asPostgres;

    private PostgresCluster(string root, string bin, bool asPostgres, int port)
    {
        _root = root;
        _bin = bin;
        _asPostgres = asPostgres;
        Port = port;
    }

    public int Port { get; }

    /// <summary>A folder the server may read files from (for the baseline's COPY … FROM file).</summary>
    public string Root => _root;

    public string AdminConnectionString() =>
        new NpgsqlConnectionStringBuilder { Host = _root, Port = Port, Username = "postgres", Database = Database, Pooling = false, CommandTimeout = 0 }.ConnectionString;

    public static async Task<PostgresCluster> StartAsync(CancellationToken cancellationToken)
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderDescending().FirstOrDefault()
            : null;
        if (bin is null)
        {
            throw new ScenarioInputException("PostgreSQL is not installed (apt-get install postgresql): no initdb under /usr/lib/postgresql/*/bin.");
        }
        var asPostgres = Environment.IsPrivilegedProcess;
        var root = Path.Combine(Path.GetTempPath(), "sp-bench-pg-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(root);
        if (asPostgres)
        {
            await RunAsync("chown", ["postgres:postgres", root], false, root, cancellationToken);
        }
        var data = Path.Combine(root, "data");
        await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale", "-N"],
            asPostgres, root, cancellationToken);
        var port = FreePort();
        await RunAsync(Path.Combine(bin, "pg_ctl"),
        [
            "-D", data, "-l", Path.Combine(root, "server.log"), "-w", "-t", "60",
            "-o", $"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off " +
                  "-c max_connections=20 -c shared_buffers=128MB -c maintenance_work_mem=256MB -c max_wal_size=4GB",
            "start",
        ], asPostgres, root, cancellationToken);
        var cluster = new PostgresCluster(root, bin, asPostgres, port);
        await using (var server = new NpgsqlConnection(new NpgsqlConnectionStringBuilder { Host = root, Port = port, Username = "postgres", Database = "postgres", Pooling = false }.ConnectionString))
        {
            await server.OpenAsync(cancellationToken);
            foreach (var sql in new[] { $"CREATE DATABASE {Database}", $"CREATE ROLE {Writer} LOGIN PASSWORD '{WriterPassword}'" })
            {
                await using var command = new NpgsqlCommand(sql, server);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        await cluster.ExecuteAsync($"CREATE SCHEMA crm AUTHORIZATION {Writer}", cancellationToken);
        return cluster;
    }

    public async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString());
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<long> CountAsync(string table, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString());
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Makes a file written by this process readable by the server (which may run as another OS user).</summary>
    public async Task ShareAsync(string path, CancellationToken cancellationToken)
    {
        if (_asPostgres)
        {
            await RunAsync("chown", ["postgres:postgres", path], false, _root, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_root, "data"), "-m", "immediate", "-w", "stop"], _asPostgres, _root, CancellationToken.None);
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }
        BenchmarkPaths.DeleteFolder(_root);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string executable, IReadOnlyList<string> arguments, bool asPostgres, string workingDirectory, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
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
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(executable)} exited with {process.ExitCode}: {await stdout}{await stderr}");
        }
    }
}
