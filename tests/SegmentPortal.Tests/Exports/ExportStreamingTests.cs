using SegmentPortal.Core.Exports;
using SegmentPortal.Tests.Import.Text;

namespace SegmentPortal.Tests.Exports;

/// <summary>
/// Large exports stream: the file leaves for the destination while rows are still being read, and the memory the
/// export holds stays small however many rows pass through. Measured in the collection that runs alone, as the GC
/// figures are process-wide.
/// </summary>
[Collection(nameof(AllocationMeasuringCollection))]
public sealed class ExportStreamingTests
{
    private const int RowCount = 200_000;
    private const int SampleEvery = 20_000;

    private static readonly string[] Columns = ["customer_id", "name", "city", "lifetime_value", "joined", "last_order", "active"];

    [Fact]
    public async Task A_200000_row_workbook_is_written_with_bounded_memory()
    {
        var measured = await MeasureAsync((rows, destination, ct) => TableExport.WriteXlsxAsync(Columns, rows, destination, "Members", ct));

        Report(measured);
        // Held whole, the sheet's XML alone would be about 60 MB (over 300 bytes a row).
        Assert.True(measured.PeakLiveGrowth < 8L << 20, $"Live memory grew by {measured.PeakLiveGrowth >> 20} MB during the export.");
        Assert.True(measured.AllocatedPerRow < 4_096, $"The export allocated {measured.AllocatedPerRow} bytes a row.");
    }

    [Fact]
    public async Task A_200000_row_CSV_is_written_with_bounded_memory()
    {
        var measured = await MeasureAsync((rows, destination, ct) => TableExport.WriteCsvAsync(Columns, rows, destination, ct));

        Report(measured);
        Assert.True(measured.PeakLiveGrowth < 8L << 20, $"Live memory grew by {measured.PeakLiveGrowth >> 20} MB during the export.");
        Assert.True(measured.AllocatedPerRow < 2_048, $"The export allocated {measured.AllocatedPerRow} bytes a row.");
    }

    private static void Report(Measurement measured) =>
        TestContext.Current.SendDiagnosticMessage(
            $"output {measured.OutputBytes >> 10} KB, written while reading {measured.WrittenBeforeLastRow >> 10} KB, " +
            $"peak live growth {measured.PeakLiveGrowth >> 10} KB, allocated {measured.AllocatedPerRow} bytes a row");

    private static async Task<Measurement> MeasureAsync(Func<IAsyncEnumerable<object?[]>, Stream, CancellationToken, Task<long>> export)
    {
        var ct = TestContext.Current.CancellationToken;
        // Counts and discards: keeping the file in memory would defeat the measurement.
        var destination = new AsyncOnlyStream(keep: false);
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = 0, writtenBeforeLastRow = 0;

        async IAsyncEnumerable<object?[]> Rows()
        {
            var joined = new DateOnly(2015, 1, 1);
            var lastOrder = new DateTime(2024, 3, 1, 9, 30, 0);
            for (var i = 0; i < RowCount; i++)
            {
                if (i % SampleEvery == SampleEvery - 1)
                {
                    // Everything the export holds now is live; what it has already passed on is garbage.
                    peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true) - baseline);
                    writtenBeforeLastRow = destination.BytesWritten;
                    await Task.Yield();
                }
                yield return [100_000 + i, $"Customer {i} 客户", i % 3 == 0 ? "上海" : "Zürich", i * 1.25m, joined.AddDays(i % 3000), lastOrder.AddMinutes(i), i % 2 == 0];
            }
        }

        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var written = await export(Rows(), destination, ct);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        Assert.Equal(RowCount, written);
        // The file was on its way out long before the last row was read.
        Assert.True(writtenBeforeLastRow > destination.BytesWritten / 2, "The export held its output until the end.");
        return new Measurement(destination.BytesWritten, writtenBeforeLastRow, peak, allocated / RowCount);
    }

    private sealed record Measurement(long OutputBytes, long WrittenBeforeLastRow, long PeakLiveGrowth, long AllocatedPerRow);
}
