using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Datasets;

namespace SegmentPortal.Data.Configurations;

internal sealed class RfmRunConfiguration : IEntityTypeConfiguration<RfmRun>
{
    public void Configure(EntityTypeBuilder<RfmRun> builder)
    {
        builder.HasIndex(a => a.DatasetId).IsUnique();
        builder.Property(a => a.OwnerId).HasMaxLength(450);
        builder.HasOne<Dataset>().WithMany().HasForeignKey(a => a.DatasetId).OnDelete(DeleteBehavior.Cascade);
    }
}
