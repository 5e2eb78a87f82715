using Parley.Server;

namespace Parley.Tests.Unit;

public sealed class ServerOptionsTests
{
    private static readonly ParleyServerOptions Defaults = new() { DataDirectory = "/tmp/unused" };

    [Fact]
    public void The_defaults_are_valid() => Defaults.Validate();

    [Theory]
    [InlineData(4096, 25600, true)]   // 4096 × 6 + 1024: every byte escaped still fits
    [InlineData(4096, 25599, false)]
    [InlineData(0, 65536, false)]
    public void A_message_must_fit_in_a_frame_even_fully_escaped(int message, int frame, bool valid)
    {
        var options = Defaults with { MaxMessageBytes = message, MaxFrameBytes = frame };
        if (valid)
        {
            options.Validate();
        }
        else
        {
            Assert.Contains("--max-message-bytes", Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Announced_timeouts_must_be_at_least_a_second()
    {
        Assert.Contains("--activity-timeout", Assert.Throws<ArgumentException>((Defaults with { ActivityTimeout = TimeSpan.FromMilliseconds(500) }).Validate).Message, StringComparison.Ordinal);
        Assert.Contains("--keepalive", Assert.Throws<ArgumentException>((Defaults with { KeepAliveInterval = TimeSpan.FromMilliseconds(400) }).Validate).Message, StringComparison.Ordinal);
    }

    /// <summary>Each of these arms a .NET timer; beyond about 49 days every connection would fail instead of waiting.</summary>
    [Fact]
    public void Timeouts_have_an_upper_bound_so_no_timer_overflows()
    {
        var tooLong = TimeSpan.FromDays(60);
        foreach (var (options, flag) in new[]
        {
            (Defaults with { ConnectTimeout = tooLong }, "--connect-timeout"),
            (Defaults with { CookieLifetime = tooLong }, "--cookie-lifetime"),
            (Defaults with { ChallengeTimeout = tooLong }, "--challenge-timeout"),
            (Defaults with { ActivityTimeout = tooLong }, "--activity-timeout"),
            (Defaults with { KeepAliveInterval = tooLong, SlowConsumerTimeout = tooLong }, "--keepalive"),
            (Defaults with { LockoutMax = TimeSpan.FromDays(400) }, "--lockout-max"),
            (Defaults with { ShutdownTimeout = TimeSpan.FromHours(2) }, "--shutdown-timeout"),
        })
        {
            Assert.Contains(flag, Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);
        }

        (Defaults with { ConnectTimeout = TimeSpan.FromHours(1), KeepAliveInterval = TimeSpan.FromHours(1), ActivityTimeout = TimeSpan.FromDays(7) }).Validate();
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(65536)]
    public void Ports_must_be_ports(int port) =>
        Assert.Throws<ArgumentException>((Defaults with { UdpPort = port }).Validate);

    [Theory]
    [InlineData(4095)]
    [InlineData(10_000_001)]
    public void Iterations_outside_what_RFC_7677_and_clients_accept_are_refused(int iterations) =>
        Assert.Contains("--scram-iterations", Assert.Throws<ArgumentException>((Defaults with { ScramIterations = iterations }).Validate).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData(2047)]
    [InlineData(1024 * 1024 + 1)]
    public void Frames_stay_within_what_every_client_accepts(int frame) =>
        Assert.Contains("--max-frame-bytes", Assert.Throws<ArgumentException>((Defaults with { MaxFrameBytes = frame, MaxMessageBytes = 100 }).Validate).Message, StringComparison.Ordinal);

    [Fact]
    public void A_sender_waiting_for_room_must_not_outlast_its_own_keep_alive_deadline() =>
        Assert.Contains("--slow-consumer-timeout", Assert.Throws<ArgumentException>((Defaults with { SlowConsumerTimeout = TimeSpan.FromSeconds(90) }).Validate).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("public")]
    [InlineData("")]
    [InlineData("Open")]
    public void An_unknown_sign_up_policy_is_refused(string policy) =>
        Assert.Contains("--signup", Assert.Throws<ArgumentException>((Defaults with { SignUpPolicy = policy }).Validate).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("open")]
    [InlineData("invite")]
    [InlineData("closed")]
    public void The_three_sign_up_policies_are_accepted(string policy) => (Defaults with { SignUpPolicy = policy }).Validate();

    [Theory]
    [InlineData(0)]
    [InlineData(1025)]
    public void A_minimum_password_length_outside_1_to_1024_is_refused(int length) =>
        Assert.Contains("--min-password-length", Assert.Throws<ArgumentException>((Defaults with { MinPasswordLength = length }).Validate).Message, StringComparison.Ordinal);

    [Fact]
    public void A_lockout_threshold_of_zero_is_refused() =>
        Assert.Contains("--lockout-threshold", Assert.Throws<ArgumentException>((Defaults with { LockoutThreshold = 0 }).Validate).Message, StringComparison.Ordinal);

    [Fact]
    public void The_longest_lock_may_not_be_shorter_than_the_first()
    {
        var options = Defaults with { LockoutBase = TimeSpan.FromMinutes(5), LockoutMax = TimeSpan.FromMinutes(4) };
        Assert.Contains("--lockout-max", Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);
        (options with { LockoutMax = TimeSpan.FromMinutes(5) }).Validate();
    }

    [Fact]
    public void The_first_lock_must_be_at_least_a_second() =>
        Assert.Contains("--lockout-base", Assert.Throws<ArgumentException>((Defaults with { LockoutBase = TimeSpan.FromMilliseconds(500) }).Validate).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("--hello-rate")]
    [InlineData("--signup-rate")]
    [InlineData("--max-tracked-addresses")]
    [InlineData("--max-unauthenticated")]
    [InlineData("--refusal-log-rate")]
    [InlineData("--message-rate")]
    [InlineData("--message-burst")]
    public void A_rate_limit_of_zero_is_refused_naming_its_flag(string flag)
    {
        var options = flag switch
        {
            "--hello-rate" => Defaults with { HellosPerMinutePerAddress = 0 },
            "--signup-rate" => Defaults with { SignUpsPerHourPerAddress = 0 },
            "--max-unauthenticated" => Defaults with { MaxUnauthenticatedConnections = 0 },
            "--refusal-log-rate" => Defaults with { RefusalLogPerSecond = 0 },
            "--message-rate" => Defaults with { MessagesPerSecond = 0 },
            "--message-burst" => Defaults with { MessageBurst = 0 },
            _ => Defaults with { MaxTrackedAddresses = 0 },
        };
        Assert.Contains(flag, Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_pending_bytes_of_a_client_must_hold_two_frames()
    {
        var options = Defaults with { MaxFrameBytes = 100_000, MaxPendingOutboundBytes = 199_999 };
        Assert.Contains("--max-pending-bytes must be at least 2 × --max-frame-bytes (200000)", Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);
        (options with { MaxPendingOutboundBytes = 200_000 }).Validate();
    }

    [Fact]
    public void A_directory_of_no_entries_is_refused() =>
        Assert.Contains("--max-directory-entries", Assert.Throws<ArgumentException>((Defaults with { MaxDirectoryEntries = 0 }).Validate).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("--max-offline-messages")]
    [InlineData("--max-talk-messages")]
    [InlineData("--max-rooms-per-client")]
    [InlineData("--max-rooms")]
    [InlineData("--max-rooms-listed")]
    public void A_messaging_limit_of_zero_is_refused_naming_its_flag(string flag)
    {
        var options = flag switch
        {
            "--max-offline-messages" => Defaults with { MaxOfflineMessages = 0 },
            "--max-talk-messages" => Defaults with { MaxTalkMessages = 0 },
            "--max-rooms-per-client" => Defaults with { MaxRoomsPerClient = 0 },
            "--max-rooms" => Defaults with { MaxRooms = 0 },
            _ => Defaults with { MaxRoomsListed = 0 },
        };
        Assert.Contains(flag, Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(1)]
    public void A_room_must_be_able_to_hold_two_members(int members) =>
        Assert.Contains("--max-room-members", Assert.Throws<ArgumentException>((Defaults with { MaxRoomMembers = members }).Validate).Message, StringComparison.Ordinal);

    [Fact]
    public void The_smallest_messaging_limits_are_accepted() =>
        (Defaults with { MaxOfflineMessages = 1, MaxTalkMessages = 1, MaxRoomMembers = 2, MaxRoomsPerClient = 1, MaxRooms = 1, MaxRoomsListed = 1 }).Validate();

    [Theory]
    [InlineData(65536, 100, 100)]
    [InlineData(65536, 10_000, 806)] // (65536 - 1024) / 80, rounded down: what fits in one frame
    [InlineData(2048, 100, 12)]
    public void The_room_list_is_cut_to_what_fits_in_one_frame(int frame, int listed, int perFrame) =>
        Assert.Equal(perFrame, (Defaults with { MaxFrameBytes = frame, MaxMessageBytes = 100, MaxRoomsListed = listed }).RoomsPerFrame);
}
