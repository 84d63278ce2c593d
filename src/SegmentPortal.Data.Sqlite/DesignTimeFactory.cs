using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace SegmentPortal.Data.Sqlite;

/// <summary>Lets <c>dotnet ef migrations add</c> build the context for this provider; it never connects.</summary>
public sealed class DesignTimeFactory : IDesignTimeDbContextFactory<PortalDbContext>
{
    public PortalDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<PortalDbContext>();
        MetadataDatabase.Configure(options, MetadataProvider.Sqlite, "Data Source=design-time.db");
        return new PortalDbContext(options.Options);
    }
}
