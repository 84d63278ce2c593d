using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SegmentPortal.Core.Connections;

namespace SegmentPortal.Data.Configurations;

internal sealed class DataConnectionConfiguration : IEntityTypeConfiguration<DataConnection>
{
    public void Configure(EntityTypeBuilder<DataConnection> builder)
    {
        builder.ToTable("Connections");
        builder.Property(c => c.Name).HasMaxLength(200);
        builder.HasIndex(c => c.Name).IsUnique();
        builder.Property(c => c.Host).HasMaxLength(253);
        builder.Property(c => c.Database).HasMaxLength(260);
        builder.Property(c => c.Username).HasMaxLength(128);
        builder.Property(c => c.ProtectedPassword).HasMaxLength(4000);
        builder.Property(c => c.OptionsJson).HasMaxLength(4000);
        builder.Property(c => c.CreatedBy).HasMaxLength(256);
    }
}
