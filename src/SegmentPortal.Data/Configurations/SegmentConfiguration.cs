using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Segments;

namespace SegmentPortal.Data.Configurations;

internal sealed class SegmentConfiguration : IEntityTypeConfiguration<Segment>
{
    public void Configure(EntityTypeBuilder<Segment> builder)
    {
        builder.Property(s => s.Name).HasMaxLength(200);
        builder.HasIndex(s => new { s.OwnerId, s.Name }).IsUnique(); // unique per owner, see SegmentService
        builder.Property(s => s.Description).HasMaxLength(2000);
        builder.Property(s => s.Tags).HasMaxLength(500);
        builder.Property(s => s.OwnerId).HasMaxLength(450);
        builder.Property(s => s.HoldoutSalt).HasMaxLength(64);
        builder.HasOne<Dataset>().WithMany().HasForeignKey(s => s.DatasetId).OnDelete(DeleteBehavior.Restrict);
    }
}
