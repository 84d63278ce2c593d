using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Users;

namespace SegmentPortal.Data.Configurations;

internal sealed class PersonalAccessTokenConfiguration : IEntityTypeConfiguration<PersonalAccessToken>
{
    public void Configure(EntityTypeBuilder<PersonalAccessToken> builder)
    {
        builder.ToTable("AccessTokens");
        builder.Property(t => t.UserId).HasMaxLength(450);
        builder.Property(t => t.Name).HasMaxLength(PersonalAccessToken.MaxNameLength);
        builder.Property(t => t.Scopes).HasMaxLength(400);
        builder.Property(t => t.Prefix).HasMaxLength(PersonalAccessToken.PrefixLength);
        builder.Property(t => t.Hash).HasMaxLength(64);
        builder.Property(t => t.RevokedBy).HasMaxLength(256);
        builder.Ignore(t => t.ScopeList);
        // Every API request looks its token up by hash.
        builder.HasIndex(t => t.Hash).IsUnique();
        builder.HasIndex(t => t.UserId);
        // A user's tokens go with the user.
        builder.HasOne<AppUser>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
