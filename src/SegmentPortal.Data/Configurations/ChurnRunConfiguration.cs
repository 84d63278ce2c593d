using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SegmentPortal.Core.Analysis.Churn;
using SegmentPortal.Core.Datasets;

namespace SegmentPortal.Data.Configurations;

internal sealed class ChurnRunConfiguration : IEntityTypeConfiguration<ChurnRun>
{
    public void Configure(EntityTypeBuilder<ChurnRun> builder)
    {
        builder.Property(r => r.Name).HasMaxLength(200);
        builder.Property(r => r.Error).HasMaxLength(2000);
        builder.Property(r => r.ModelPath).HasMaxLength(500);
        builder.Property(r => r.OwnerId).HasMaxLength(450);
        builder.HasIndex(r => new { r.DatasetId, r.CreatedAt });
        builder.HasOne<Dataset>().WithMany().HasForeignKey(r => r.DatasetId).OnDelete(DeleteBehavior.Cascade);
    }
}
