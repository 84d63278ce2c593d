using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SegmentPortal.Core.Segments;

namespace SegmentPortal.Data.Configurations;

internal sealed class SegmentSnapshotConfiguration : IEntityTypeConfiguration<SegmentSnapshot>
{
    public void Configure(EntityTypeBuilder<SegmentSnapshot> builder)
    {
        builder.HasOne<Segment>().WithMany().HasForeignKey(s => s.SegmentId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(s => new { s.SegmentId, s.TakenAt });
    }
}
