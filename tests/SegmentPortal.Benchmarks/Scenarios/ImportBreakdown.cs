using DuckDB.NET.Data;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Benchmarks.Framework;
using SegmentPortal.Benchmarks.Hosting;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Datasets.Recipes;
using SegmentPortal.Core.Import;
using SegmentPortal.Core.Import.Text;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Benchmarks.Scenarios;

/// <summary>
/// Where an import's time and memory go: the import job's steps run one by one through the same Core calls the job
/// makes (FileImporter, LiveTableBuilder, the warehouse's staging swap, DatasetRebuilder's metadata save), each timed
/// and given its own memory peak, plus a few experiments on the same data that show what alternatives would cost.
/// </summary>
public static class ImportBreakdown
{
    private const string LiveTable = "bench_orders";
    private const string RawTable = "bench_orders_raw";

    public static async Task<IReadOnlyList<string>> RunAsync(BenchmarkPaths paths, WarehouseLimits limits, string input, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        var folder = paths.NewWorkFolder("breakdown");
        try
        {
            long used;
            List<ColumnSetting> settings = [];
            await using (var host = await PortalHost.StartAsync(folder, limits, cancellationToken))
            {
                var uploads = host.Services.GetRequiredService<UploadStore>();
                StoredUpload upload;
                await using (var content = File.OpenRead(input))
                {
                    upload = await uploads.SaveAsync(content, Path.GetFileName(input), host.UserId, null, cancellationToken);
                }
                var path = uploads.PathOf(upload);
                var importer = host.Services.GetRequiredService<FileImporter>();
                var warehouse = host.Services.GetRequiredService<DuckDbWarehouse>();
                var datasetId = await CreateDatasetAsync(host, cancellationToken);

                var run = new RunContext(paths, Side.App, -1, isWarmup: false);
                ImportedFile? imported = null;
                await run.MeasureAsync(async () =>
                {
                    run.Mark("encoding detection: TextEncodings.DetectAsync (1 MB sample)");
                    await using (var sample = File.OpenRead(path))
                    {
                        await TextEncodings.DetectAsync(sample, cancellationToken);
                    }
                    run.Mark("CSV layout in C#: CsvLayoutReader.ReadAsync (first 50 records)");
                    await CsvLayoutReader.ReadAsync(path, null, cancellationToken);
                    await warehouse.ReplaceTablesAsync([RawTable, LiveTable], async (db, staging, token) =>
                    {
                        run.Mark("FileImporter.ImportAsync: encoding + layout again, read_csv into raw, column count, count(*)");
                        imported = await importer.ImportAsync(db, staging[0], upload, new FileImportOptions(), null, token);
                        run.Mark("count(*) on the raw table (FileImporter's last step, measured again alone)");
                        await Count(db, staging[0], token);
                        run.Mark("describe the raw table");
                        settings = LiveTableBuilder.Merge(await DuckDbWarehouse.DescribeAsync(db, staging[0], token), null);
                        run.Mark("live table: LiveTableBuilder.BuildAsync (CREATE TABLE AS SELECT ... ORDER BY rowid)");
                        await LiveTableBuilder.BuildAsync(db, staging[0], staging[1], settings, Recipe.Empty, token);
                        run.Mark("count(*) on the live table");
                        await Count(db, staging[1], token);
                        run.Mark("swap: DROP + RENAME of both tables in one transaction, commit");
                    }, cancellationToken);
                    run.Mark("metadata: DatasetRebuilder.SaveMetadataAsync (describe, count(*), EF save)");
                    await using (var scope = host.Services.CreateAsyncScope())
                    {
                        await scope.ServiceProvider.GetRequiredService<DatasetRebuilder>().SaveMetadataAsync(datasetId, settings, Recipe.Empty, cancellationToken);
                    }
                    return true;
                });
                var steps = run.Complete(imported!.Rows);
                used = await UsedBytesAsync(warehouse, cancellationToken);
                lines.Add($"- total: {Format.Seconds(steps.Elapsed)}, peak {Format.Megabytes(steps.PeakWorkingSet)} MB, {Format.Rows(steps.Rows)} rows");
                lines.AddRange(steps.Phases.Select(p => $"  - {p.Name}: {Format.Seconds(p.Elapsed)}, peak {Format.Megabytes(p.PeakWorkingSet)} MB"));
                if (imported.Notes.Count > 0)
                {
                    lines.Add($"  - FileImporter's notes: {string.Join(" ", imported.Notes)}");
                }
            }

            // Each experiment on a fresh warehouse instance over the same file, so no buffer pool carries over.
            lines.Add("Experiments on the same raw table, each on a freshly opened warehouse (not part of the import):");
            var projection = "";
            lines.Add(await ExperimentAsync(paths, folder, limits, "live table as built now (LiveTableBuilder.BuildAsync, ORDER BY rowid)", async db =>
            {
                projection = LiveTableBuilder.Projection(await DuckDbWarehouse.DescribeAsync(db, RawTable, cancellationToken), settings);
                await LiveTableBuilder.BuildAsync(db, RawTable, "exp_ordered", settings, Recipe.Empty, cancellationToken);
            }, "DROP TABLE exp_ordered", cancellationToken));
            lines.Add(await ExperimentAsync(paths, folder, limits, "live table without ORDER BY rowid (same projection, plus the source rowid to check the order)", db =>
                WarehouseCommand.ExecuteAsync(db,
                    $"CREATE TABLE exp_unordered AS SELECT rowid AS source_row, {projection} FROM {WarehouseNames.Quote(RawTable)}", null, null, cancellationToken),
                null, cancellationToken));
            long outOfOrder;
            await using (var host = await PortalHost.StartAsync(folder, limits, cancellationToken))
            await using (var db = await host.Services.GetRequiredService<DuckDbWarehouse>().OpenAsync(cancellationToken))
            {
                outOfOrder = await WarehouseCommand.ScalarAsync<long>(db, "SELECT count(*) FROM exp_unordered WHERE source_row <> rowid", null, cancellationToken);
                await WarehouseCommand.ExecuteAsync(db, "DROP TABLE exp_unordered", null, null, cancellationToken);
            }
            lines.Add($"  (rows of that copy out of file order: {outOfOrder:N0}; DuckDB's preserve_insertion_order is on by default)");
            lines.Add(await ExperimentAsync(paths, folder, limits, "live table as a VIEW over the raw table (same projection)", db =>
                WarehouseCommand.ExecuteAsync(db, $"CREATE VIEW exp_view AS SELECT {projection} FROM {WarehouseNames.Quote(RawTable)}", null, null, cancellationToken),
                "DROP VIEW exp_view", cancellationToken));
            lines.Add($"Warehouse storage used after the import (raw + live table, after CHECKPOINT): {Format.Megabytes(used)} MB; " +
                $"the floor's file for the same CSV: {Format.Megabytes(await FloorUsedBytesAsync(paths, limits, input, cancellationToken))} MB.");
        }
        finally
        {
            BenchmarkPaths.DeleteFolder(folder);
        }
        return lines;
    }

    private static async Task<string> ExperimentAsync(
        BenchmarkPaths paths, string folder, WarehouseLimits limits, string name, Func<DuckDBConnection, Task> work, string? cleanup,
        CancellationToken cancellationToken)
    {
        await using var host = await PortalHost.StartAsync(folder, limits, cancellationToken);
        await using var db = await host.Services.GetRequiredService<DuckDbWarehouse>().OpenAsync(cancellationToken);
        var run = new RunContext(paths, Side.App, -1, isWarmup: false);
        await run.MeasureAsync(async () =>
        {
            await work(db);
            return true;
        });
        var measured = run.Complete(0);
        if (cleanup is not null)
        {
            await WarehouseCommand.ExecuteAsync(db, cleanup, null, null, cancellationToken);
        }
        return $"- {name}: {Format.Seconds(measured.Elapsed)}, peak {Format.Megabytes(measured.PeakWorkingSet)} MB (start {Format.Megabytes(measured.StartWorkingSet)} MB)";
    }

    private static Task<long> Count(DuckDBConnection db, string table, CancellationToken cancellationToken) =>
        WarehouseCommand.ScalarAsync<long>(db, $"SELECT count(*) FROM {WarehouseNames.Quote(table)}", null, cancellationToken);

    private static async Task<int> CreateDatasetAsync(PortalHost host, CancellationToken cancellationToken)
    {
        await using var db = await host.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(cancellationToken);
        var now = DateTimeOffset.UtcNow;
        var dataset = new Dataset
        {
            Name = "Breakdown",
            TableName = LiveTable,
            RawTableName = RawTable,
            Status = DatasetStatus.Importing,
            Source = "benchmark",
            SourceKind = DatasetSourceKind.File,
            OwnerId = host.UserId,
            CreatedAt = now,
            RefreshedAt = now,
        };
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(cancellationToken);
        return dataset.Id;
    }

    /// <summary>Bytes of the database file in use (blocks × block size) after a checkpoint: dropped tables' space not counted.</summary>
    private static async Task<long> UsedBytesAsync(DuckDbWarehouse warehouse, CancellationToken cancellationToken)
    {
        await using var connection = await warehouse.OpenAsync(cancellationToken);
        return await UsedBytesAsync(connection, cancellationToken);
    }

    private static async Task<long> UsedBytesAsync(DuckDBConnection connection, CancellationToken cancellationToken)
    {
        await WarehouseCommand.ExecuteAsync(connection, "CHECKPOINT", null, null, cancellationToken);
        return await WarehouseCommand.ScalarAsync<long>(connection,
            "SELECT used_blocks * block_size FROM pragma_database_size() WHERE database_name = current_database()", null, cancellationToken);
    }

    /// <summary>The same for the floor: the CSV read by DuckDB alone into a fresh file.</summary>
    private static async Task<long> FloorUsedBytesAsync(BenchmarkPaths paths, WarehouseLimits limits, string input, CancellationToken cancellationToken)
    {
        var folder = paths.NewWorkFolder("floor-size");
        try
        {
            await using var connection = new DuckDBConnection($"Data Source={Path.Combine(folder, "floor.duckdb")}");
            await connection.OpenAsync(cancellationToken);
            foreach (var sql in new[]
            {
                $"SET threads = {limits.Threads}",
                $"SET memory_limit = '{limits.MemoryLimit}'",
                $"CREATE TABLE t AS SELECT * FROM read_csv('{input.Replace("'", "''", StringComparison.Ordinal)}')",
            })
            {
                await WarehouseCommand.ExecuteAsync(connection, sql, null, null, cancellationToken);
            }
            return await UsedBytesAsync(connection, cancellationToken);
        }
        finally
        {
            BenchmarkPaths.DeleteFolder(folder);
        }
    }
}
