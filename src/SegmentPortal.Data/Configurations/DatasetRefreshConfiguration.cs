using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SegmentPortal.Core.Datasets;

namespace SegmentPortal.Data.Configurations;

internal sealed class DatasetRefreshConfiguration : IEntityTypeConfiguration<DatasetRefresh>
{
    public void Configure(EntityTypeBuilder<DatasetRefresh> builder)
    {
        builder.Property(r => r.TriggeredBy).HasMaxLength(256);
        builder.Property(r => r.Error).HasMaxLength(4000);
        builder.HasOne<Dataset>().WithMany().HasForeignKey(r => r.DatasetId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(r => new { r.DatasetId, r.StartedAt });
    }
}
