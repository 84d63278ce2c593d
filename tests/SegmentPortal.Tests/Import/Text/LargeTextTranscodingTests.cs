using System.Text;
using SegmentPortal.Core.Import.Text;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Import.Text;

/// <summary>
/// Measures allocations process-wide, so it runs alone: tests in other classes would otherwise add theirs.
/// </summary>
[CollectionDefinition(nameof(AllocationMeasuringCollection), DisableParallelization = true)]
public sealed class AllocationMeasuringCollection;

[Collection(nameof(AllocationMeasuringCollection))]
public sealed class LargeTextTranscodingTests
{
    private const long FileSize = 50L << 20;

    [Fact]
    public async Task A_50_MB_gb18030_file_is_transcoded_with_bounded_memory()
    {
        var ct = TestContext.Current.CancellationToken;
        using var folder = new TempFolder();
        var sourcePath = folder.File("large.csv");
        var targetPath = folder.File("large.utf8.csv");
        var gb18030 = TextEncodings.GetStrictEncoding(TextEncodingChoice.Gb18030);

        const string header = "客户编号,城市,金额\n";
        const string row = "1001,北京,12.50\n";
        long rows = 0;
        await using (var writer = new FileStream(sourcePath, FileMode.CreateNew))
        {
            writer.Write(gb18030.GetBytes(header));
            var rowBytes = gb18030.GetBytes(row);
            while (writer.Length < FileSize)
            {
                writer.Write(rowBytes);
                rows++;
            }
        }

        var before = GC.GetTotalAllocatedBytes(precise: true);
        TextTranscodeResult result;
        await using (var source = new FileStream(sourcePath, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, useAsync: true))
        await using (var target = new FileStream(targetPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, useAsync: true))
        {
            result = await TextEncodings.TranscodeToUtf8Async(source, TextEncodingChoice.Auto, target, cancellationToken: ct);
        }
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(TextEncodingChoice.Gb18030, result.Encoding);
        Assert.Equal(new FileInfo(sourcePath).Length, result.BytesRead);
        var expectedLength = Encoding.UTF8.GetByteCount(header) + rows * Encoding.UTF8.GetByteCount(row);
        Assert.Equal(expectedLength, new FileInfo(targetPath).Length);
        Assert.Equal(expectedLength, result.BytesWritten);
        using (var reader = new StreamReader(targetPath, Encoding.UTF8))
        {
            Assert.Equal(header.TrimEnd('\n'), reader.ReadLine());
            Assert.Equal(row.TrimEnd('\n'), reader.ReadLine());
        }
        // Holding the file would take 50 MB of bytes and 100 MB of UTF-16 text; the transcoder's buffers, the 1 MB
        // detection sample and the code page tables take a few MB.
        Assert.True(allocated < 16L << 20, $"Transcoding a 50 MB file allocated {allocated / (1 << 20)} MB.");
    }
}
