using FsCheck;
using FsCheck.Fluent;
using Parley.Client;
using Parley.Protocol.Framing;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;
using Parley.Tests.Fuzz.Support;
using Parley.Tests.Support;
using Xunit.Abstractions;

namespace Parley.Tests.Fuzz;

/// <summary>What one edit of a recorded session does; the numbers pick messages, the stack mutates one.</summary>
internal enum EditKind
{
    Mutate,
    Drop,
    Duplicate,
    Swap,
    InsertOutOfState,
    Cut,
    InsertLogOff,
}

internal sealed record SessionEdit(EditKind Kind, int A, int B, Mutation[] Stack)
{
    public override string ToString() => Kind == EditKind.Mutate ? $"Mutate({A}: {string.Join(", ", Stack)})" : $"{Kind}({A},{B})";
}

/// <summary>
/// Issue #9: the mutation run over a recorded real session. The client library logs on and runs a whole session
/// (chat request, chats, a DM, the directory, history, a room, TALK, end, ping) through a tap that records its
/// records, which are opened with its keys. Each case replays that session on a fresh log-on with its JSON mutated
/// (bits flipped, fields dropped, duplicated, swapped or retyped, truncated) and its messages dropped, duplicated,
/// reordered, cut short or joined by out-of-state ones, sealed with the new session's keys; see <see cref="SealedCase"/>
/// for what each case must show. PARLEY_FUZZ_CASES sets the count, PARLEY_FUZZ_SEED replays a run.
/// </summary>
public sealed class SessionMutationTests(ITestOutputHelper output)
{
    private static readonly Gen<SessionEdit> Edits =
        from kind in Gen.Frequency((6, Gen.Constant(EditKind.Mutate)), (1, Gen.Constant(EditKind.Drop)), (1, Gen.Constant(EditKind.Duplicate)),
            (1, Gen.Constant(EditKind.Swap)), (1, Gen.Constant(EditKind.InsertOutOfState)), (1, Gen.Constant(EditKind.Cut)), (1, Gen.Constant(EditKind.InsertLogOff)))
        from a in Gen.Choose(0, int.MaxValue)
        from b in Gen.Choose(0, int.MaxValue)
        from stack in JsonMutator.Stacks
        select new SessionEdit(kind, a, b, stack);

    [Fact]
    public async Task Mutated_replays_of_a_recorded_session_each_end_in_a_defined_way()
    {
        await using var fuzz = await FuzzServer.StartAsync();
        await using var pair = await ChatterPair.StartAsync(fuzz.Server);
        var peerId = fuzz.NewUser("peer");
        await using var peer = await ParleyConnection.LogOnAsync(fuzz.Server.ClientOptions, peerId, fuzz.Key);
        var relayed = 0;
        _ = Task.Run(async () =>
        {
            // The peer reads, so it is never a slow consumer; the CHATs it gets show how many replays reached a session.
            await foreach (var message in peer.Events.ReadAllAsync())
            {
                relayed += message is Chat ? 1 : 0;
            }
        });
        var (recorded, connect, session) = await RecordAsync(fuzz, peer, peerId);
        output.WriteLine($"recorded {recorded.Count} messages: {string.Join(" ", recorded.Select(b => MessageCodec.Read(b).GetType().Name))}");

        var started = DateTime.UtcNow;
        var cases = FuzzRun.Sample(Gen.Choose(1, 4).SelectMany(n => Edits.ArrayOf(n)), FuzzRun.Cases(60));
        var failures = new List<string>();
        for (var i = 0; i < cases.Count; i++)
        {
            var bodies = Edit(recorded, connect, cases[i]);
            if (await SealedCase.RunAsync(fuzz, fuzz.NewUser("fz"), bodies, rewrite: new SessionRewrite(session)) is { } failure)
            {
                failures.Add($"case {i} [{string.Join("; ", cases[i].Select(e => e.ToString()))}]: {failure}");
            }

            await fuzz.CheckAsync(i, failures);
        }

        output.WriteLine($"{cases.Count} replays in {(DateTime.UtcNow - started).TotalSeconds:0.0} s; the peer received {Volatile.Read(ref relayed)} of their CHATs");
        Assert.Null(peer.CloseReason);
        await fuzz.FinishAsync(pair, output, "session-mutation", cases.Count, failures);
    }

    /// <summary>
    /// The client→server plaintexts of a real session, opened from what a tap between client and server recorded, with
    /// the session ID the server gave it and the plaintext CONNECT (an out-of-state message once sealed). The client's
    /// last records, a sentinel HISTORY_REQ and LOG_OFF, are left out: each replay ends the same way itself.
    /// </summary>
    private static async Task<(List<byte[]> Bodies, byte[] Connect, string Session)> RecordAsync(FuzzServer fuzz, ParleyConnection peer, string peerId)
    {
        await using var tap = TcpTap.Start();
        tap.ForwardTo(fuzz.Server.Server.TcpEndPoint.Port);
        var ticket = await fuzz.AuthenticateAsync(fuzz.NewUser("rec"));
        using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
        string session;
        await using (var client = await ParleyConnection.ConnectAsync(ticket with { TcpPort = tap.Port }, fuzz.Server.ClientOptions, timeout.Token))
        {
            await client.SendAsync(new ChatRequest(peerId));
            session = (await client.ExpectAsync<ChatStarted>()).SessionId;
            foreach (var text in new[] { "hello", "how are you?", "héllo ✓ <b>&amp;</b>" })
            {
                await client.SendAsync(new Chat(session, text));
            }

            await MessagingSteps.SendDmAsync(client, peerId, "a direct message", "dm-1");
            foreach (var request in new ParleyMessage[] { new ListReq(), new HistoryReq(peerId), new Join("#fuzz"), new Say("#fuzz", "hi room"), new RoomsReq(), new Part("#fuzz"), new Talk(peerId, 10), new EndRequest(session), new Ping() })
            {
                await client.SendAsync(request);
            }

            // A sentinel: once it is answered, the tap has every earlier record.
            await client.SendAsync(new HistoryReq("recorded-end"));
            while (await client.Events.ReadAsync(timeout.Token) is not HistoryEnd { ClientId: "recorded-end" })
            {
            }

            await client.LogOffAsync();
        }

        var frames = TcpTap.Frames(tap.Captures[0]);
        Assert.Equal(FrameKind.Plain, (FrameKind)frames[0][4]);
        using var opener = new RecordCipher(ticket.ClientToServer);
        var bodies = frames.Skip(1).Select(f => RawWire.Json(SealedRecords.Open(opener, (f[..Frame.HeaderBytes], f[Frame.HeaderBytes..]))!)).ToList();
        var sentinel = bodies.FindIndex(b => MessageCodec.Read(b) is HistoryReq { ClientId: "recorded-end" });
        Assert.Equal(14, sentinel); // the 14 requests above, in order
        return (bodies[..sentinel], frames[0][Frame.HeaderBytes..], session);
    }

    /// <summary>The recorded messages with the case's edits applied in turn.</summary>
    private static List<byte[]> Edit(List<byte[]> recorded, byte[] connect, SessionEdit[] edits)
    {
        var outOfState = new[] { connect, MessageCodec.ToBytes(new Hello("alice", new string('n', 20), "key")), MessageCodec.ToBytes(new Response("alice", "rand", "proof")), MessageCodec.ToBytes(new Connected("alice", 1, 1, 1)) };
        var bodies = recorded.ToList();
        foreach (var edit in edits)
        {
            var at = bodies.Count == 0 ? 0 : edit.A % bodies.Count;
            switch (edit.Kind)
            {
                case EditKind.Mutate when bodies.Count > 0:
                    bodies[at] = JsonMutator.Apply(bodies[at], edit.Stack);
                    break;
                case EditKind.Drop when bodies.Count > 0:
                    bodies.RemoveAt(at);
                    break;
                case EditKind.Duplicate when bodies.Count > 0:
                    bodies.Insert(at, bodies[at]);
                    break;
                case EditKind.Swap when bodies.Count > 0:
                    var other = edit.B % bodies.Count;
                    (bodies[at], bodies[other]) = (bodies[other], bodies[at]);
                    break;
                case EditKind.InsertOutOfState:
                    bodies.Insert(edit.B % (bodies.Count + 1), outOfState[edit.A % outOfState.Length]);
                    break;
                case EditKind.Cut:
                    bodies = bodies.Take(edit.B % (bodies.Count + 1)).ToList();
                    break;
                case EditKind.InsertLogOff:
                    bodies.Insert(edit.B % (bodies.Count + 1), MessageCodec.ToBytes(new LogOff()));
                    break;
            }
        }

        return bodies;
    }
}
