using Parley.Client;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;
using Parley.Storage;
using Parley.Tests.Support;

namespace Parley.Tests.Integration;

/// <summary>Issue #3 against an in-process server: sign-up, lockout, rate limits, directory, password change, admin changes.</summary>
public sealed class AccountTests
{
    private const string Password = "renew-password";

    [Fact]
    public async Task A_signed_up_user_can_log_on_with_the_password_that_never_left_the_client()
    {
        await using var server = await InProcessServer.StartAsync();
        var info = await ParleySignUp.GetInfoAsync(server.ClientOptions);
        Assert.Equal((SignUpPolicies.Open, InProcessServer.FastIterations), (info.Policy, info.Iterations));

        var outcome = await ParleySignUp.SignUpAsync(server.ClientOptions, info, "renew", Password, invite: null);
        Assert.Equal(SignUpCodes.Created, outcome.Code);
        await using var renew = await server.LogOnAsync("renew", Password);
        Assert.Equal("renew", renew.ClientId);
        Assert.DoesNotContain(server.Logs.Entries, e => e.Text.Contains(Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_taken_ID_in_any_letter_case_is_refused_and_the_owner_keeps_their_password()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "alice-password");
        var info = await ParleySignUp.GetInfoAsync(server.ClientOptions);
        foreach (var id in new[] { "alice", "ALICE", "Alice" })
        {
            var outcome = await ParleySignUp.SignUpAsync(server.ClientOptions, info, id, "another-password", invite: null);
            Assert.Equal(SignUpCodes.Taken, outcome.Code);
            Assert.Equal($"The client ID '{id}' is already taken (IDs ignore letter case); choose another.", outcome.Text);
        }

        Assert.Equal(SignUpCodes.Taken, (await ParleySignUp.CheckAsync(server.ClientOptions, info, "aLiCe", null)).Code);
        Assert.Equal(SignUpCodes.Available, (await ParleySignUp.CheckAsync(server.ClientOptions, info, "bob", null)).Code);
        await using var alice = await server.LogOnAsync("alice", "alice-password");
        await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("alice", "another-password"));
    }

    [Theory]
    [InlineData("admin", "The client ID 'admin' is reserved; choose another.")]
    [InlineData("Everyone", "The client ID 'Everyone' is reserved; choose another.")]
    [InlineData("9lives", "A client ID must start with a letter (A to Z).")]
    [InlineData("x", "A client ID must be 2 to 32 characters long.")]
    [InlineData("semi;colon", "A client ID may contain only letters, digits, '_', '-' and '.'.")]
    public async Task The_server_names_the_ID_rule_a_sign_up_breaks_even_from_a_client_that_did_not_check(string id, string rule)
    {
        await using var server = await InProcessServer.StartAsync();
        var info = await ParleySignUp.GetInfoAsync(server.ClientOptions);
        var outcome = await ParleySignUp.SignUpAsync(server.ClientOptions, info, id, Password, invite: null);
        Assert.Equal((SignUpCodes.IdNotAllowed, rule), (outcome.Code, outcome.Text));
        Assert.Null(new UserStore(server.Database).Find(id));
    }

    [Fact]
    public async Task A_verifier_with_other_than_the_announced_iterations_is_refused()
    {
        await using var server = await InProcessServer.StartAsync();
        var info = await ParleySignUp.GetInfoAsync(server.ClientOptions);
        var outcome = await ParleySignUp.SignUpAsync(server.ClientOptions, info with { Iterations = info.Iterations + 1 }, "renew", Password, null);
        Assert.Equal(SignUpCodes.BadVerifier, outcome.Code);
        Assert.Null(new UserStore(server.Database).Find("renew"));
    }

    [Fact]
    public async Task A_closed_server_refuses_sign_up_and_says_whom_to_ask()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { SignUpPolicy = SignUpPolicies.Closed });
        var info = await ParleySignUp.GetInfoAsync(server.ClientOptions);
        Assert.Equal(SignUpPolicies.Closed, info.Policy);
        var e = await Assert.ThrowsAsync<ParleyClientException>(() => ParleySignUp.SignUpAsync(server.ClientOptions, info, "renew", Password, null));
        Assert.Equal("This server does not take sign-ups; ask its administrator for an account.", e.Message);
    }

    [Fact]
    public async Task An_invite_code_allows_its_number_of_sign_ups_and_no_more()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { SignUpPolicy = SignUpPolicies.Invite });
        var code = new InviteStore(server.Database).Create(1, DateTimeOffset.UtcNow.AddDays(1), DateTimeOffset.UtcNow);
        var info = await ParleySignUp.GetInfoAsync(server.ClientOptions);

        var without = await ParleySignUp.SignUpAsync(server.ClientOptions, info, "renew", Password, invite: null);
        Assert.Equal(SignUpCodes.InviteInvalid, without.Code);
        Assert.Contains("needs an invite code", without.Text, StringComparison.Ordinal);
        Assert.Equal(SignUpCodes.Created, (await ParleySignUp.SignUpAsync(server.ClientOptions, info, "renew", Password, code.ToLowerInvariant())).Code);
        var spent = await ParleySignUp.SignUpAsync(server.ClientOptions, info, "second", Password, code);
        Assert.Equal((SignUpCodes.InviteInvalid, "That invite code is unknown, used up or expired."), (spent.Code, spent.Text));
        Assert.Null(new UserStore(server.Database).Find("second"));
    }

    [Fact]
    public async Task One_address_cannot_send_more_sign_up_requests_than_its_hourly_allowance()
    {
        // A manual clock: no token comes back while the test runs, however slow the machine.
        await using var server = await InProcessServer.StartAsync(o => o with { SignUpsPerHourPerAddress = 2 }, new ManualTimeProvider());
        var info = await ParleySignUp.GetInfoAsync(server.ClientOptions);
        await ParleySignUp.CheckAsync(server.ClientOptions, info, "user1", null);
        await ParleySignUp.SignUpAsync(server.ClientOptions, info, "user2", Password, null);
        var e = await Assert.ThrowsAsync<ParleyClientException>(() => ParleySignUp.SignUpAsync(server.ClientOptions, info, "user3", Password, null));
        Assert.StartsWith("Too many sign-up requests from your address; try again in 30 min", e.Message, StringComparison.Ordinal);
        Assert.Null(new UserStore(server.Database).Find("user3"));
    }

    [Fact]
    public async Task Three_wrong_passwords_lock_the_ID_even_against_the_right_one_until_the_lock_ends()
    {
        var time = new ManualTimeProvider();
        await using var server = await InProcessServer.StartAsync(time: time);
        server.AddUser("alice", "alice-password");
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var e = await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("alice", "guess-" + attempt));
            Assert.Equal(("Log-on failed: unknown client ID or wrong password.", null), (e.Message, e.RetryAfter));
        }

        var third = await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("alice", "guess-3"));
        Assert.Equal(TimeSpan.FromMinutes(1), third.RetryAfter);
        Assert.EndsWith("Too many failed log-ons for this client ID: it is locked; try again in 1 min.", third.Message, StringComparison.Ordinal);

        var right = await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("alice", "alice-password"));
        Assert.Equal(TimeSpan.FromMinutes(1), right.RetryAfter);
        time.Advance(TimeSpan.FromSeconds(45));
        var later = await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("ALICE", "alice-password"));
        Assert.Equal("Too many failed log-ons for this client ID: it is locked; try again in 15 s.", later.Message);

        time.Advance(TimeSpan.FromSeconds(16));
        await using (await server.LogOnAsync("alice", "alice-password"))
        {
        }

        // Success cleared the count: the next lock starts at the threshold again, not doubled.
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("alice", "guess-" + attempt));
        }

        Assert.Equal(TimeSpan.FromMinutes(1), (await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("alice", "alice-password"))).RetryAfter);
    }

    [Fact]
    public async Task A_challenge_opened_before_the_lock_cannot_be_used_to_log_on_during_it()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "alice-password");
        using var socket = RawWire.UdpSocket();
        using var early = new ScramClient("alice", "alice-password");
        var challenge = Assert.IsType<Challenge>(await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, MessageCodec.ToBytes(early.Hello)));

        for (var attempt = 1; attempt <= 3; attempt++)
        {
            await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("alice", "guess"));
        }

        var reply = await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, MessageCodec.ToBytes(early.Answer(challenge)));
        var fail = Assert.IsType<AuthFail>(reply);
        Assert.NotNull(fail.RetryAfterSeconds);
    }

    [Fact]
    public async Task A_burst_of_answers_to_challenges_opened_earlier_gets_no_more_guesses_than_the_threshold()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "alice-password");
        using var socket = RawWire.UdpSocket();
        var answers = new List<byte[]>();
        for (var i = 0; i < 12; i++)
        {
            using var guesser = new ScramClient("alice", "guess-" + i);
            var challenge = Assert.IsType<Challenge>(await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, MessageCodec.ToBytes(guesser.Hello)));
            answers.Add(MessageCodec.ToBytes(guesser.Answer(challenge)));
        }

        // All answers at once: the server's receive loops take them in parallel.
        foreach (var answer in answers)
        {
            await socket.SendToAsync(answer, System.Net.Sockets.SocketFlags.None, server.Server.UdpEndPoint);
        }

        var replies = new List<AuthFail>();
        var buffer = new byte[65536];
        using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
        while (replies.Count < answers.Count)
        {
            var n = await socket.ReceiveAsync(buffer, System.Net.Sockets.SocketFlags.None, timeout.Token);
            replies.Add(Assert.IsType<AuthFail>(MessageCodec.Read(buffer.AsSpan(0, n))));
        }

        // Exactly the threshold's worth of proofs were evaluated; every other answer met the lock.
        Assert.Equal(3, replies.Count(r => r.Text.StartsWith("Log-on failed", StringComparison.Ordinal)));
        Assert.Equal(answers.Count - 3, replies.Count(r => r.Text.StartsWith("Too many failed log-ons", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_lock_planted_on_a_free_ID_does_not_bind_the_person_who_signs_it_up()
    {
        await using var server = await InProcessServer.StartAsync();
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("newcomer", "guess"));
        }

        var info = await ParleySignUp.GetInfoAsync(server.ClientOptions);
        Assert.Equal(SignUpCodes.Created, (await ParleySignUp.SignUpAsync(server.ClientOptions, info, "newcomer", Password, null)).Code);
        await using var newcomer = await server.LogOnAsync("newcomer", Password);
    }

    [Fact]
    public async Task Each_failure_after_a_lock_doubles_it_up_to_the_cap_and_unlock_lifts_it()
    {
        var time = new ManualTimeProvider();
        await using var server = await InProcessServer.StartAsync(o => o with { LockoutMax = TimeSpan.FromMinutes(3) }, time);
        server.AddUser("alice", "alice-password");
        var locks = new List<TimeSpan?>();
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            locks.Add((await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("alice", "guess"))).RetryAfter);
            if (locks[^1] is { } wait && attempt < 5)
            {
                time.Advance(wait); // wait the lock out, then guess again
            }
        }

        Assert.Equal([null, null, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(3)], locks);
        Assert.NotNull((await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("alice", "alice-password"))).RetryAfter);

        Assert.True(new LockoutStore(server.Database).Clear("alice")); // what `parley user unlock alice` does
        await using var alice = await server.LogOnAsync("alice", "alice-password");
    }

    [Fact]
    public async Task Unknown_IDs_fail_and_lock_exactly_like_known_ones()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "alice-password");
        var known = new List<ParleyClientException>();
        var unknown = new List<ParleyClientException>();
        for (var attempt = 1; attempt <= 4; attempt++)
        {
            known.Add(await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("alice", "guess")));
            unknown.Add(await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("ghost", "guess")));
        }

        Assert.Equal(known.Select(e => (e.Failure, e.Message, e.RetryAfter)), unknown.Select(e => (e.Failure, e.Message, e.RetryAfter)));
        Assert.NotNull(unknown[^1].RetryAfter);
    }

    [Fact]
    public async Task One_address_cannot_send_more_HELLOs_than_its_allowance()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { HellosPerMinutePerAddress = 3 }, new ManualTimeProvider());
        server.AddUser("alice", "alice-password");
        for (var i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("scan" + i, "guess"));
        }

        var e = await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("alice", "alice-password"));
        Assert.Equal(ClientFailure.Refused, e.Failure);
        Assert.Equal("Too many log-on attempts from your address; try again in 20 s.", e.Message);
    }

    [Fact]
    public async Task Unknown_IDs_are_challenged_with_the_iteration_count_most_users_have()
    {
        var setup = await InProcessServer.StartAsync();
        setup.AddUser("alice", "alice-password");
        setup.AddUser("bob", "bob-password");
        var directory = setup.Options.DataDirectory;
        await setup.Server.DisposeAsync();

        // The server's setting changed since the users were created: unknown IDs must not stand out by it.
        await using var server = await InProcessServer.StartAsync(o => o with { DataDirectory = directory, ScramIterations = 5000 });
        using var socket = RawWire.UdpSocket();
        using var ghost = new ScramClient("ghost", "x");
        var challenge = Assert.IsType<Challenge>(await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, MessageCodec.ToBytes(ghost.Hello)));
        Assert.Equal(InProcessServer.FastIterations, challenge.Iterations);
    }

    [Fact]
    public async Task The_directory_lists_every_user_with_presence_and_follows_log_on_and_log_off()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("carol", "carol-password");
        await using var alice = await server.AddAndLogOnAsync("alice");
        var bob = await server.AddAndLogOnAsync("Bob");

        await alice.SendAsync(new ListReq());
        var list = await alice.ExpectAsync<ListResp>();
        Assert.Equal([new("alice", true), new("Bob", true), new("carol", false)], list.Users);
        Assert.False(list.Truncated);

        await alice.SendAsync(new ListReq(OnlineOnly: true));
        Assert.Equal(["alice", "Bob"], (await alice.ExpectAsync<ListResp>()).Users.Select(u => u.ClientId));

        await bob.LogOffAsync();
        await WaitForListingAsync(alice, l => l.Users.Single(u => u.ClientId == "Bob").Online == false);
    }

    [Fact]
    public async Task A_directory_longer_than_the_bound_is_cut_and_marked()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MaxDirectoryEntries = 2 });
        server.AddUser("bob", "bob-password");
        server.AddUser("carol", "carol-password");
        await using var alice = await server.AddAndLogOnAsync("alice");
        await alice.SendAsync(new ListReq());
        var list = await alice.ExpectAsync<ListResp>();
        Assert.Equal(["alice", "bob"], list.Users.Select(u => u.ClientId));
        Assert.True(list.Truncated);
    }

    [Fact]
    public async Task Passwd_needs_the_current_password_and_keeps_the_connection()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");

        await alice.ChangePasswordAsync("not-the-password", "new-password");
        var wrong = await alice.ExpectAsync<Error>();
        Assert.Equal(ErrorCodes.WrongPassword, wrong.Code);

        await alice.ChangePasswordAsync("pw", "new-password");
        await alice.ExpectAsync<PasswdOk>();
        await alice.ExpectNothingPendingAsync(); // still connected: the server did not take this for an admin reset

        // A second change in the same session proves the password set by the first.
        await alice.ChangePasswordAsync("new-password", "newer-password");
        await alice.ExpectAsync<PasswdOk>();

        await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("alice", "pw"));
        await using var again = await server.LogOnAsync("alice", "newer-password");
    }

    [Fact]
    public async Task A_user_the_admin_removes_is_disconnected_and_cannot_log_on()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");

        // Another process (parley user remove) writing the same database.
        Assert.True(new UserStore(ParleyDatabase.Open(server.Options.DataDirectory)).Remove("alice"));
        var rest = await alice.ExpectClosedAsync();
        Assert.Equal(ErrorCodes.AccountRemoved, Assert.IsType<Error>(Assert.Single(rest)).Code);
        await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("alice", "pw"));
    }

    [Fact]
    public async Task A_password_reset_by_the_admin_disconnects_the_user_and_the_new_password_works()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");

        Assert.NotNull(new UserStore(ParleyDatabase.Open(server.Options.DataDirectory)).SetVerifier("alice", Scram.CreateVerifier("reset-password", InProcessServer.FastIterations)));
        var rest = await alice.ExpectClosedAsync();
        Assert.Equal(ErrorCodes.PasswordReset, Assert.IsType<Error>(Assert.Single(rest)).Code);
        await bob.ExpectNothingPendingAsync(); // others are untouched

        await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("alice", "pw"));
        await using var again = await server.LogOnAsync("alice", "reset-password");
    }

    private static async Task WaitForListingAsync(ParleyConnection connection, Func<ListResp, bool> done)
    {
        using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
        while (true)
        {
            await connection.SendAsync(new ListReq(), timeout.Token);
            if (done(await connection.ExpectAsync<ListResp>()))
            {
                return;
            }

            await Task.Delay(20, timeout.Token);
        }
    }
}
