using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace SegmentPortal.Core.Access;

/// <summary>Registers the access module: <see cref="Authorizer"/> and what it reads through (rules, settings, the access cache).</summary>
internal static class AccessServices
{
    /// <summary>
    /// Adds the access module's services (each once); the host adds the metadata store and an
    /// <see cref="Identity.ICurrentUser"/>, and the modules that own shareable items their <see cref="ISharedItemSource"/>.
    /// </summary>
    public static IServiceCollection AddPortalAccess(this IServiceCollection services)
    {
        services.TryAddScoped<Authorizer>();
        services.TryAddScoped<DataRuleStore>();
        services.TryAddScoped<PortalSettings>();
        services.TryAddScoped<SharedItems>();
        services.TryAddSingleton<AccessChanges>();
        services.TryAddSingleton<AccessCache>();
        return services;
    }
}
