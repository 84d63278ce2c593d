using System.Buffers.Binary;
using System.Text;

namespace SegmentPortal.Tests.Import.Excel;

/// <summary>Edits a zip file's headers the way a hostile upload would.</summary>
internal static class ZipTampering
{
    private const uint EndOfCentralDirectory = 0x06054B50;
    private const uint CentralDirectoryHeader = 0x02014B50;

    /// <summary>
    /// Sets the uncompressed size recorded for entries whose name starts with <paramref name="namePrefix"/>, in the
    /// central directory and in the local header, leaving the data as it is.
    /// </summary>
    public static void UnderstateUncompressedSize(string path, string namePrefix, uint size)
    {
        var bytes = File.ReadAllBytes(path);
        var end = bytes.Length - 22;
        while (end >= 0 && BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(end)) != EndOfCentralDirectory)
        {
            end--;
        }
        if (end < 0)
        {
            throw new InvalidDataException("No end of central directory record.");
        }
        var entries = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(end + 10));
        var header = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(end + 16));
        var patched = 0;
        for (var i = 0; i < entries; i++)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(header)) != CentralDirectoryHeader)
            {
                throw new InvalidDataException("Broken central directory.");
            }
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(header + 28));
            var extraLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(header + 30));
            var commentLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(header + 32));
            var localHeader = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(header + 42));
            var name = Encoding.UTF8.GetString(bytes, header + 46, nameLength);
            if (name.StartsWith(namePrefix, StringComparison.Ordinal))
            {
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(header + 24), size);
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(localHeader + 22), size);
                patched++;
            }
            header += 46 + nameLength + extraLength + commentLength;
        }
        if (patched == 0)
        {
            throw new InvalidOperationException($"No entry starts with {namePrefix}.");
        }
        File.WriteAllBytes(path, bytes);
    }
}
