using SegmentPortal.Core.Storage;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Storage;

public sealed class StoragePathsTests
{
    [Fact]
    public void A_relative_data_folder_lives_at_the_repository_root()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("SegmentPortal.sln"), "");
        var deep = Directory.CreateDirectory(Path.Combine(folder.Path, "src", "SegmentPortal.Web", "bin", "Debug")).FullName;

        var paths = StoragePaths.Resolve(new StorageOptions { DataDirectory = "data" }, deep);

        Assert.Equal(Path.Combine(folder.Path, "data"), paths.DataDirectory);
        Assert.Equal(Path.Combine(folder.Path, "data", "portal.db"), paths.MetadataDatabase);
    }

    [Fact]
    public void An_absolute_data_folder_is_used_as_given()
    {
        using var folder = new TempFolder();

        var paths = StoragePaths.Resolve(new StorageOptions { DataDirectory = folder.Path });
        paths.EnsureCreated();

        Assert.Equal(folder.Path, paths.DataDirectory);
        Assert.True(Directory.Exists(paths.UploadsDirectory));
        Assert.True(Directory.Exists(paths.TempDirectory));
    }
}
