using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SegmentPortal.Core.Analysis.Lifetime;
using SegmentPortal.Core.Datasets;

namespace SegmentPortal.Data.Configurations;

internal sealed class LifetimeRunConfiguration : IEntityTypeConfiguration<LifetimeRun>
{
    public void Configure(EntityTypeBuilder<LifetimeRun> builder)
    {
        builder.Property(r => r.Error).HasMaxLength(2000);
        builder.Property(r => r.OwnerId).HasMaxLength(450);
        builder.HasIndex(r => r.DatasetId).IsUnique();
        builder.HasOne<Dataset>().WithMany().HasForeignKey(r => r.DatasetId).OnDelete(DeleteBehavior.Cascade);
    }
}
