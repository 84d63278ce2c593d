using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SegmentPortal.Core.Dashboards;

namespace SegmentPortal.Data.Configurations;

internal sealed class DashboardConfiguration : IEntityTypeConfiguration<Dashboard>
{
    public void Configure(EntityTypeBuilder<Dashboard> builder)
    {
        builder.Property(d => d.Name).HasMaxLength(200);
        builder.HasIndex(d => new { d.OwnerId, d.Name }).IsUnique(); // unique per owner, see DashboardService
        builder.Property(d => d.Description).HasMaxLength(2000);
        builder.Property(d => d.OwnerId).HasMaxLength(450);
        builder.HasIndex(d => d.OwnerId);
        // Tiles, layout and filters are whole JSON documents, read and written with the dashboard.
        builder.Property(d => d.TilesJson).IsRequired();
        builder.Property(d => d.LayoutJson).IsRequired();
        builder.Property(d => d.FiltersJson).IsRequired();
    }
}
