using System.Diagnostics;
using DuckDB.NET.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Benchmarks.Framework;
using SegmentPortal.Benchmarks.Hosting;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Import;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.TestData;

namespace SegmentPortal.Benchmarks.Scenarios;

/// <summary>
/// A CSV file through the app's import pipeline (the upload stored by <see cref="UploadStore"/>, then the import job
/// <see cref="DatasetImportRunner"/> runs: encoding check, layout, DuckDB read into the raw table, live table, atomic
/// swap, metadata) against the floor: DuckDB's own <c>CREATE TABLE t AS SELECT * FROM read_csv(file)</c> on a fresh
/// connection to a fresh DuckDB file with the same threads and memory limit. The ratio compares the import job (what
/// a user waits for after the upload); the upload copy is timed too and reported as a note.
/// </summary>
public sealed class ImportScenario : Scenario
{
    private const string DefaultDataset = "online-retail.csv";

    private WarehouseLimits _limits = null!;
    private string _input = null!;
    private string? _appColumns;
    private string? _baselineColumns;
    private string? _appSettings;
    private string? _appMessage;

    public override string Name => "import";

    public override string BaselineName => "duckdb-read_csv";

    public override string Description =>
        "A CSV through the portal's import job (upload stored by UploadStore, then DatasetImportRunner: encoding check, " +
        "layout, raw table, live table, atomic swap, metadata) against DuckDB's CREATE TABLE t AS SELECT * FROM " +
        "read_csv(file) on a fresh connection to a fresh file, with the same threads and memory_limit. --size N " +
        $"generates an N-row retail CSV (cached under results/cache); without it: tests/data/{DefaultDataset}.gz (unpacked once to the temp folder).";

    public override async Task SetupAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        try
        {
            _limits = WarehouseLimits.FromEnvironment();
        }
        catch (InvalidOperationException ex)
        {
            throw new ScenarioInputException(ex.Message);
        }
        if (context.Size is { } rows)
        {
            Directory.CreateDirectory(context.Paths.Cache);
            _input = Path.Combine(context.Paths.Cache, $"import-{rows}.csv");
            if (!File.Exists(_input))
            {
                ScenarioContext.Log($"Generating {rows:N0} rows into {_input}");
                var watch = Stopwatch.StartNew();
                await RetailCsvGenerator.WriteAsync(_input, rows,
                    new Progress<long>(n => ScenarioContext.Log($"  {n:N0} rows written")), cancellationToken);
                ScenarioContext.Log($"Generated in {Format.Seconds(watch.Elapsed)}");
            }
            context.InputLabel = rows.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        else
        {
            _input = TestDatasets.Path(DefaultDataset);
            context.InputLabel = Path.GetFileNameWithoutExtension(DefaultDataset);
        }
        context.Note($"Input: {_input} ({Format.Megabytes(new FileInfo(_input).Length)} MB). " +
            $"DuckDB limits on both sides: threads = {_limits.Threads}, memory_limit = {_limits.MemoryLimit}. Machine: {Environment.ProcessorCount} cores.");
    }

    public override async Task<long> RunAppAsync(ScenarioContext context, RunContext run, CancellationToken cancellationToken)
    {
        var folder = context.Paths.NewWorkFolder("app");
        try
        {
            await using var host = await PortalHost.StartAsync(folder, _limits, cancellationToken);
            var uploads = host.Services.GetRequiredService<UploadStore>();

            var copy = Stopwatch.StartNew();
            StoredUpload upload;
            await using (var content = new FileStream(_input, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true))
            {
                upload = await uploads.SaveAsync(content, Path.GetFileName(_input), host.UserId, null, cancellationToken);
            }
            run.RecordExtra("upload", copy.Elapsed);

            var progress = new PhaseProgress(run);
            await run.MeasureAsync(async () =>
            {
                run.Mark("start: dataset and refresh rows");
                await using var scope = host.Services.CreateAsyncScope();
                var runner = scope.ServiceProvider.GetRequiredService<DatasetImportRunner>();
                await runner.RunAsync(host.User, [upload], new FileImportRequest([upload.Id]), progress, cancellationToken);
                return true;
            });

            await using var db = await host.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(cancellationToken);
            var dataset = await db.Datasets.AsNoTracking().Include(d => d.Columns).SingleAsync(cancellationToken);
            if (dataset.Status != DatasetStatus.Ready)
            {
                throw new InvalidOperationException($"The import left the dataset {dataset.Status}.");
            }
            var warehouse = host.Services.GetRequiredService<DuckDbWarehouse>();
            var live = await warehouse.CountRowsAsync(dataset.TableName, cancellationToken);
            if (live != dataset.RowCount)
            {
                throw new InvalidOperationException($"The metadata says {dataset.RowCount:N0} rows but the live table has {live:N0}.");
            }
            if (run.IsWarmup)
            {
                _appColumns = Columns(await warehouse.DescribeAsync(dataset.RawTableName!, cancellationToken));
                _appSettings = $"threads = {await warehouse.GetSettingAsync("threads", cancellationToken)}, " +
                    $"memory_limit = {await warehouse.GetSettingAsync("memory_limit", cancellationToken)}";
                _appMessage = progress.LastMessage;
            }
            return dataset.RowCount;
        }
        finally
        {
            BenchmarkPaths.DeleteFolder(folder);
        }
    }

    public override async Task<long> RunBaselineAsync(ScenarioContext context, RunContext run, CancellationToken cancellationToken)
    {
        var folder = context.Paths.NewWorkFolder("baseline");
        try
        {
            var temp = Path.Combine(folder, "tmp");
            Directory.CreateDirectory(temp);
            await using var connection = new DuckDBConnection($"Data Source={Path.Combine(folder, "floor.duckdb")}");
            await connection.OpenAsync(cancellationToken);
            Execute(connection,
                $"SET threads = {_limits.Threads}",
                $"SET memory_limit = {Literal(_limits.MemoryLimit)}",
                $"SET temp_directory = {Literal(temp)}");

            await run.MeasureAsync(() => Task.Run(() =>
            {
                using var command = connection.CreateCommand();
                command.CommandText = $"CREATE TABLE t AS SELECT * FROM read_csv({Literal(_input)})";
                return command.ExecuteNonQuery();
            }, cancellationToken));

            var rows = Scalar<long>(connection, "SELECT count(*) FROM t");
            if (run.IsWarmup)
            {
                var settings = $"threads = {Scalar<string>(connection, "SELECT current_setting('threads')::VARCHAR")}, " +
                    $"memory_limit = {Scalar<string>(connection, "SELECT current_setting('memory_limit')::VARCHAR")}";
                if (settings != _appSettings)
                {
                    throw new InvalidOperationException($"The sides do not run with the same limits: app {_appSettings}, baseline {settings}.");
                }
                context.Note($"Settings read back from DuckDB on both sides: {settings}.");
                _baselineColumns = Columns(await DuckDbWarehouse.DescribeAsync(connection, "t", cancellationToken));
            }
            return rows;
        }
        finally
        {
            BenchmarkPaths.DeleteFolder(folder);
        }
    }

    public override async Task AfterRunsAsync(ScenarioContext context, IReadOnlyList<RunMeasurement> measurements, CancellationToken cancellationToken)
    {
        var app = measurements.Where(m => m.Side == Side.App).ToList();
        context.Note($"App's import job said: \"{_appMessage}\"");
        context.Note($"Column types, app raw table: {_appColumns}");
        context.Note($"Column types, baseline:      {_baselineColumns}");
        context.Note($"Upload copy (UploadStore.SaveAsync, not in the ratio): median {Format.Seconds(Median(app.Select(m => m.Extras["upload"])))}.");
        context.Note("App import job by phase (median of the timed runs; each phase starts at one of the job's own progress reports):");
        foreach (var (name, elapsed, peak) in PhaseMedians(app))
        {
            context.Note($"- {name}: {Format.Seconds(elapsed)}, peak {Format.Megabytes(peak)} MB");
        }
    }

    private static List<(string Name, TimeSpan Elapsed, long Peak)> PhaseMedians(IReadOnlyList<RunMeasurement> runs)
    {
        var names = runs.SelectMany(r => r.Phases.Select(p => p.Name)).Distinct().ToList();
        return names.Select(name =>
        {
            var phases = runs.Select(r => r.Phases.FirstOrDefault(p => p.Name == name)).OfType<Phase>().ToList();
            return (name, Median(phases.Select(p => p.Elapsed)), phases.Max(p => p.PeakWorkingSet));
        }).ToList();
    }

    private static TimeSpan Median(IEnumerable<TimeSpan> values) => BenchmarkRunner.Median(values.Order().ToList());

    private static string Columns(IEnumerable<WarehouseColumn> columns) =>
        string.Join(", ", columns.Select(c => $"{c.Name} {c.WarehouseType}"));

    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static void Execute(DuckDBConnection connection, params string[] statements)
    {
        foreach (var sql in statements)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.ExecuteNonQuery();
        }
    }

    private static T Scalar<T>(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Turns the import job's progress reports into phase marks.</summary>
    private sealed class PhaseProgress(RunContext run) : IProgress<JobProgress>
    {
        public string? LastMessage { get; private set; }

        public void Report(JobProgress value)
        {
            LastMessage = value.Message;
            if (value.Message.StartsWith("Reading ", StringComparison.Ordinal))
            {
                run.Mark("encoding check, CSV layout, read_csv into the raw table, column count and count(*)");
            }
            else if (value.Message.StartsWith("Building", StringComparison.Ordinal))
            {
                run.Mark("describe, live relation (a view when nothing needs copying), swap commit, count(*)");
            }
            else if (value.Message.StartsWith("Saving", StringComparison.Ordinal))
            {
                run.Mark("metadata: describe, count(*), columns and refresh saved");
            }
            else if (value.Fraction is 1)
            {
                run.Mark("(done)");
            }
        }
    }
}
