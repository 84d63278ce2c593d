using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace SegmentPortal.Core.Connections;

/// <summary>Turns a host name into addresses. Replaced in tests so no network is needed.</summary>
public interface IHostAddressResolver
{
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken);
}

internal sealed class DnsHostAddressResolver : IHostAddressResolver
{
    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
        Dns.GetHostAddressesAsync(host, cancellationToken);
}

/// <summary>
/// Keeps connections away from addresses a server-side request must never reach: link-local ranges and the cloud
/// instance-metadata endpoints (which hand out credentials). Checked when a connection is saved and again before every
/// connect, on every address the name resolves to, since DNS answers can change.
/// </summary>
public sealed partial class HostGuard(IHostAddressResolver resolver)
{
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);

    private static readonly HashSet<string> BlockedNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    };

    private static readonly IPAddress[] BlockedAddresses =
    [
        IPAddress.Parse("100.100.100.200"), // Alibaba Cloud metadata
        IPAddress.Parse("168.63.129.16"), // Azure platform (wire server)
        IPAddress.Parse("fd00:ec2::254"), // AWS metadata over IPv6
    ];

    /// <summary>
    /// Checks the host's spelling and returns it normalised: trimmed, without a trailing dot, IPv6 without brackets.
    /// A name or an IP address only: no scheme, port, path, spaces or lists.
    /// </summary>
    public static string NormalizeHost(string? host)
    {
        var value = host?.Trim() ?? "";
        if (value.Length == 0)
        {
            throw new ConnectionException("Enter the server's host name or IP address.");
        }
        if (value.Contains("://", StringComparison.Ordinal))
        {
            throw new ConnectionException("Enter only the host name, without a scheme such as postgres:// or https://.");
        }
        if (value.Length > 2 && value[0] == '[' && value[^1] == ']')
        {
            value = value[1..^1];
        }
        if (value.Contains('%', StringComparison.Ordinal))
        {
            throw new ConnectionException("IPv6 addresses with a zone (%) are not supported.");
        }
        if (value.Contains(':', StringComparison.Ordinal) && IPAddress.TryParse(value, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return v6.ToString();
        }
        if (value.Any(char.IsWhiteSpace))
        {
            throw new ConnectionException("The host may not contain spaces.");
        }
        if (value.IndexOfAny(['/', '\\']) >= 0)
        {
            throw new ConnectionException("Enter only the host name, without a path.");
        }
        if (value.Contains(':', StringComparison.Ordinal))
        {
            throw new ConnectionException("Enter the port in the Port field, not after the host.");
        }
        if (value.EndsWith('.'))
        {
            value = value[..^1];
        }
        if (!HostNamePattern().IsMatch(value))
        {
            throw new ConnectionException($"'{value}' is not a valid host name or IP address.");
        }
        return value;
    }

    /// <summary>True for names that only ever mean a cloud metadata service.</summary>
    public static bool IsBlockedName(string host) => BlockedNames.Contains(host.TrimEnd('.'));

    /// <summary>True for link-local and cloud-metadata addresses, including IPv4 ones wrapped in IPv6.</summary>
    public static bool IsBlocked(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return IsBlocked(address.MapToIPv4());
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (EmbeddedIPv4(address) is { } embedded && IsBlocked(embedded))
            {
                return true;
            }
            if (address.IsIPv6LinkLocal)
            {
                return true; // fe80::/10
            }
        }
        else if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var bytes = address.GetAddressBytes();
            if (bytes[0] == 169 && bytes[1] == 254)
            {
                return true; // 169.254.0.0/16, including 169.254.169.254
            }
        }
        return BlockedAddresses.Any(address.Equals);
    }

    /// <summary>
    /// Refuses blocked names and addresses; resolves names and refuses them when any address is blocked. Returns the
    /// addresses (IPv4 first) so the caller can connect to one it checked.
    /// </summary>
    public async Task<IReadOnlyList<IPAddress>> CheckAsync(string host, CancellationToken cancellationToken = default)
    {
        var normalized = NormalizeHost(host);
        if (IsBlockedName(normalized))
        {
            throw Blocked(normalized);
        }
        IPAddress[] addresses;
        if (IPAddress.TryParse(normalized, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ResolveTimeout);
            try
            {
                addresses = await resolver.ResolveAsync(normalized, timeout.Token);
            }
            catch (SocketException)
            {
                throw new ConnectionException($"The host name '{normalized}' could not be found.");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ConnectionException($"Looking up the host name '{normalized}' took too long.");
            }
            if (addresses.Length == 0)
            {
                throw new ConnectionException($"The host name '{normalized}' could not be found.");
            }
        }
        foreach (var address in addresses)
        {
            if (IsBlocked(address))
            {
                throw literal is null ? Blocked(normalized, address) : Blocked(normalized);
            }
            if (IsNotAServer(address))
            {
                throw new ConnectionException($"{address} is not the address of a server.");
            }
        }
        return addresses.OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork || a.IsIPv4MappedToIPv6 ? 0 : 1).ToList();
    }

    private static ConnectionException Blocked(string host, IPAddress? resolved = null) => new(resolved is null
        ? $"The portal does not connect to {host}: it is a link-local or cloud metadata address."
        : $"The portal does not connect to {host}: it resolves to {resolved}, a link-local or cloud metadata address.");

    /// <summary>The IPv4 address inside an IPv4-compatible (::a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) IPv6 address.</summary>
    private static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        var b = address.GetAddressBytes();
        var compatible = b.Take(12).All(x => x == 0) && !address.Equals(IPAddress.IPv6Loopback) && !address.Equals(IPAddress.IPv6Any);
        var nat64 = b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.Skip(4).Take(8).All(x => x == 0);
        return compatible || nat64 ? new IPAddress(b[12..]) : null;
    }

    /// <summary>"This network" (0.0.0.0/8, ::), multicast, reserved and broadcast addresses.</summary>
    private static bool IsNotAServer(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6
            ? address.IsIPv6Multicast || address.Equals(IPAddress.IPv6Any)
            : address.GetAddressBytes() is var b && (b[0] == 0 || b[0] >= 224);

    // Labels of letters, digits, '-' and '_' (some internal DNS uses it), separated by dots; 253 characters at most.
    [GeneratedRegex(@"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$")]
    private static partial Regex HostNamePattern();
}
