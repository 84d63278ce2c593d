using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Access;

/// <summary>Portal-wide settings Admins change in the app, stored in the metadata store (every session sees a change on its next read).</summary>
public sealed class PortalSettings(IPortalDbFactory dbFactory, AccessCache cache)
{
    /// <summary>Admins see every row and column of every dataset ("true", the default) or are ruled like everyone else.</summary>
    public const string AdminsSeeAllData = "Access.AdminsSeeAllData";

    /// <summary>Dashboards may have public links ("false", the default).</summary>
    public const string PublicLinksEnabled = "Sharing.PublicLinksEnabled";

    /// <summary>The key of hashed columns, made on first use.</summary>
    private const string HashKeySetting = "Access.HashKey";

    public Task<string?> GetAsync(string key, CancellationToken cancellationToken = default) =>
        cache.GetAsync($"setting:{key}", async () =>
        {
            await using var db = await dbFactory.CreateAsync(cancellationToken);
            return await db.PortalSettings.AsNoTracking().Where(s => s.Key == key).Select(s => s.Value).SingleOrDefaultAsync(cancellationToken);
        });

    public async Task<bool> GetFlagAsync(string key, bool fallback, CancellationToken cancellationToken = default) =>
        await GetAsync(key, cancellationToken) is { } value ? bool.TryParse(value, out var flag) ? flag : fallback : fallback;

    /// <summary>Stores a setting. Callers check that the user may change it.</summary>
    public async Task SetAsync(string key, string value, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var setting = await db.PortalSettings.SingleOrDefaultAsync(s => s.Key == key, cancellationToken);
        if (setting is null)
        {
            db.PortalSettings.Add(new PortalSetting { Key = key, Value = value });
        }
        else
        {
            setting.Value = value;
        }
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<string> HashKeyAsync(CancellationToken cancellationToken = default)
    {
        if (await GetAsync(HashKeySetting, cancellationToken) is { Length: > 0 } key)
        {
            return key;
        }
        try
        {
            await using var db = await dbFactory.CreateAsync(cancellationToken);
            db.PortalSettings.Add(new PortalSetting { Key = HashKeySetting, Value = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)) });
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Made by another session at the same moment: theirs is the key.
        }
        return await GetAsync(HashKeySetting, cancellationToken) ?? throw new InvalidOperationException("The hash key could not be stored.");
    }
}
