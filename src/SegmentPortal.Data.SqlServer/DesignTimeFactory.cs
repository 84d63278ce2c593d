using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace SegmentPortal.Data.SqlServer;

/// <summary>Lets <c>dotnet ef migrations add</c> build the context for this provider; it never connects.</summary>
public sealed class DesignTimeFactory : IDesignTimeDbContextFactory<PortalDbContext>
{
    public PortalDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<PortalDbContext>();
        MetadataDatabase.Configure(options, MetadataProvider.SqlServer, "Server=localhost;Database=SegmentPortal;Trusted_Connection=True;TrustServerCertificate=True");
        return new PortalDbContext(options.Options);
    }
}
