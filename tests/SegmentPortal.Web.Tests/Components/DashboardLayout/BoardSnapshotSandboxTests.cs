using SegmentPortal.Web.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.DashboardLayout;

/// <summary>When the board export's Chromium runs without its sandbox.</summary>
public sealed class BoardSnapshotSandboxTests
{
    [Theory]
    [InlineData(false, false, false)] // an ordinary user: the sandbox stays on
    [InlineData(false, true, true)] // the administrator turned it off (Export:NoSandbox)
    [InlineData(true, false, true)] // root: Chromium refuses to start as root with the sandbox
    [InlineData(true, true, true)]
    public void The_sandbox_is_off_only_as_root_or_when_the_setting_says_so(bool runsAsRoot, bool noSandboxSetting, bool withoutSandbox) =>
        Assert.Equal(withoutSandbox, BoardSnapshots.WithoutSandbox(runsAsRoot, noSandboxSetting));

    [Fact]
    public void Root_is_the_effective_user_of_this_process()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "Windows has no root user.");

        Assert.Equal(Environment.UserName == "root", BoardSnapshots.RunsAsRoot());
    }
}
