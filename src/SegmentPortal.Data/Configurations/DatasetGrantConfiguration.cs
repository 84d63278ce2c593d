using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SegmentPortal.Core.Datasets;

namespace SegmentPortal.Data.Configurations;

internal sealed class DatasetGrantConfiguration : IEntityTypeConfiguration<DatasetGrant>
{
    public void Configure(EntityTypeBuilder<DatasetGrant> builder)
    {
        builder.Property(g => g.Role).HasMaxLength(64);
        builder.Property(g => g.UserId).HasMaxLength(450);
        builder.HasOne<Dataset>().WithMany().HasForeignKey(g => g.DatasetId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(g => new { g.DatasetId, g.Role, g.UserId }).IsUnique();
    }
}
