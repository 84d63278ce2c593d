using System.Net;
using System.Net.Sockets;
using SegmentPortal.Core.Connections;

namespace SegmentPortal.Tests.Connections;

/// <summary>Answers from a table the test fills; no network.</summary>
public sealed class FakeResolver : IHostAddressResolver
{
    public Dictionary<string, IPAddress[]> Answers { get; } = new(StringComparer.OrdinalIgnoreCase);

    public List<string> Asked { get; } = [];

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        lock (Asked)
        {
            Asked.Add(host);
        }
        return Answers.TryGetValue(host, out var addresses)
            ? Task.FromResult(addresses)
            : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
    }
}

public sealed class HostGuardTests
{
    private readonly FakeResolver _resolver = new();

    private HostGuard Guard => new(_resolver);

    [Theory]
    [InlineData("169.254.169.254")]
    [InlineData("169.254.0.1")]
    [InlineData("169.254.255.255")]
    [InlineData("2852039166")] // 169.254.169.254 as one number
    [InlineData("100.100.100.200")]
    [InlineData("168.63.129.16")]
    [InlineData("fe80::1")]
    [InlineData("[fe80::abcd]")]
    [InlineData("febf:ffff::1")]
    [InlineData("fd00:ec2::254")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("[::ffff:a9fe:a9fe]")]
    [InlineData("::169.254.169.254")]
    [InlineData("64:ff9b::169.254.169.254")]
    public async Task Link_local_and_metadata_addresses_are_refused(string host)
    {
        var error = await Assert.ThrowsAsync<ConnectionException>(() => Guard.CheckAsync(host, TestContext.Current.CancellationToken));

        Assert.Contains("link-local or cloud metadata", error.Message);
        Assert.Empty(_resolver.Asked);
    }

    [Theory]
    [InlineData("metadata")]
    [InlineData("METADATA.google.internal")]
    [InlineData("metadata.google.internal.")]
    [InlineData("metadata.goog")]
    [InlineData("instance-data")]
    public async Task Metadata_names_are_refused_without_asking_dns(string host)
    {
        await Assert.ThrowsAsync<ConnectionException>(() => Guard.CheckAsync(host, TestContext.Current.CancellationToken));

        Assert.Empty(_resolver.Asked);
    }

    [Fact]
    public async Task A_name_is_refused_when_any_of_its_addresses_is_link_local()
    {
        _resolver.Answers["db.example.test"] = [IPAddress.Parse("10.1.2.3"), IPAddress.Parse("169.254.169.254")];
        _resolver.Answers["v6.example.test"] = [IPAddress.Parse("::ffff:169.254.169.254")];

        var error = await Assert.ThrowsAsync<ConnectionException>(() => Guard.CheckAsync("db.example.test", TestContext.Current.CancellationToken));
        Assert.Contains("resolves to 169.254.169.254", error.Message);
        await Assert.ThrowsAsync<ConnectionException>(() => Guard.CheckAsync("v6.example.test", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Ordinary_addresses_and_names_pass_with_ipv4_first()
    {
        _resolver.Answers["db.example.test"] = [IPAddress.Parse("2001:db8::5"), IPAddress.Parse("192.0.2.10")];

        Assert.Equal([IPAddress.Loopback], await Guard.CheckAsync("127.0.0.1", TestContext.Current.CancellationToken));
        Assert.Equal([IPAddress.IPv6Loopback], await Guard.CheckAsync("[::1]", TestContext.Current.CancellationToken));
        Assert.Equal([IPAddress.Parse("192.0.2.10"), IPAddress.Parse("2001:db8::5")],
            await Guard.CheckAsync("DB.example.test.", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Unknown_names_get_a_clear_message()
    {
        var error = await Assert.ThrowsAsync<ConnectionException>(() => Guard.CheckAsync("nowhere.example.test", TestContext.Current.CancellationToken));

        Assert.Equal("The host name 'nowhere.example.test' could not be found.", error.Message);
    }

    [Theory]
    [InlineData("", "Enter the server's host")]
    [InlineData("postgres://db.example.com", "without a scheme")]
    [InlineData("db.example.com/postgres", "without a path")]
    [InlineData("db example.com", "spaces")]
    [InlineData("db.example.com:5432", "Port field")]
    [InlineData("db1.example.com,db2.example.com", "not a valid host")]
    [InlineData("db.example.com;Password=x", "not a valid host")]
    [InlineData("-db.example.com", "not a valid host")]
    [InlineData("fe80::1%eth0", "zone")]
    public void Badly_formed_hosts_are_refused(string host, string message)
    {
        var error = Assert.Throws<ConnectionException>(() => HostGuard.NormalizeHost(host));

        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("0.1.2.3")]
    [InlineData("1234")]
    [InlineData("::")]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    public async Task Addresses_that_are_not_a_server_are_refused(string host) =>
        await Assert.ThrowsAsync<ConnectionException>(() => Guard.CheckAsync(host, TestContext.Current.CancellationToken));
}
