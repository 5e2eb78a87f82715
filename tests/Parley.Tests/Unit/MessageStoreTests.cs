using Parley.Storage;

namespace Parley.Tests.Unit;

public sealed class MessageStoreTests
{
    private static async Task<long> DmAsync(HistoryWriter writer, string from, string to, string body) =>
        (await writer.AppendAndWaitAsync(new StoredMessage("", from, to, body, 1) { Kind = MessageKinds.Direct }, CancellationToken.None)).Id;

    /// <summary>Writes a receipt and returns how many messages it made delivered.</summary>
    private static async Task<int> MarkAsync(HistoryWriter writer, Func<Action<int>, Receipt> receipt)
    {
        var applied = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await writer.MarkAsync(receipt(applied.SetResult), CancellationToken.None);
        return await applied.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void A_conversation_has_one_key_whichever_side_and_letter_case()
    {
        Assert.Equal(MessageStore.ConversationKey("alice", "bob"), MessageStore.ConversationKey("BOB", "Alice"));
        Assert.NotEqual(MessageStore.ConversationKey("alice", "bob"), MessageStore.ConversationKey("alice", "carol"));
    }

    [Fact]
    public async Task The_direct_tail_is_the_newest_DMs_of_the_pair_oldest_first_without_session_chats()
    {
        using var temp = new TempDatabase();
        var store = new MessageStore(temp.Database);
        await using (var writer = new HistoryWriter(temp.Database))
        {
            await DmAsync(writer, "alice", "bob", "d1");
            await writer.AppendAndWaitAsync(new StoredMessage("s1", "alice", "bob", "a session chat", 1), CancellationToken.None);
            await DmAsync(writer, "bob", "alice", "d2");
            await DmAsync(writer, "alice", "carol", "not bob's");
            await DmAsync(writer, "alice", "bob", "d3");
        }

        Assert.Equal(["d1", "d2", "d3"], (await store.ReadDirectTailAsync("BOB", "alice", 10, CancellationToken.None)).Select(m => m.Body));
        Assert.Equal(["d2", "d3"], (await store.ReadDirectTailAsync("alice", "bob", 2, CancellationToken.None)).Select(m => m.Body));
        Assert.Equal(["a session chat"], (await store.ReadConversationAsync("alice", "bob", 0, 10, CancellationToken.None)).Select(m => m.Body));
    }

    [Fact]
    public async Task A_read_receipt_reads_and_delivers_only_the_peer_s_DMs_up_to_its_seq()
    {
        using var temp = new TempDatabase();
        var store = new MessageStore(temp.Database);
        await using var writer = new HistoryWriter(temp.Database);
        var a1 = await DmAsync(writer, "alice", "bob", "a1");
        var a2 = await DmAsync(writer, "alice", "bob", "a2");
        await DmAsync(writer, "carol", "bob", "c1");
        await DmAsync(writer, "alice", "bob", "a3");
        await DmAsync(writer, "bob", "alice", "to alice");

        Assert.Equal([new UnreadFrom("alice", 3), new UnreadFrom("carol", 1)], await store.UnreadAsync("bob", 10, CancellationToken.None));
        Assert.Equal(4, store.UndeliveredCounts()["bob"]);

        // One DM_ACK delivers it without reading it; a second one, or one by another client, changes nothing.
        Assert.Equal(1, await MarkAsync(writer, done => new DeliveredReceipt("bob", a1, 10, done)));
        Assert.Equal(0, await MarkAsync(writer, done => new DeliveredReceipt("bob", a1, 11, done)));
        Assert.Equal(0, await MarkAsync(writer, done => new DeliveredReceipt("carol", a2, 11, done)));
        Assert.Equal(3, store.UndeliveredCounts()["bob"]);
        Assert.Equal(3, await store.UnreadCountAsync("bob", "alice", CancellationToken.None));

        // Reading alice's DMs up to a2 reads a1 and a2 and delivers a2 (a1 already was); carol's and a3 stay unread.
        // Equal counts list the sender of the oldest unread DM first: c1 came before a3.
        Assert.Equal(1, await MarkAsync(writer, done => new ReadReceipt("bob", "alice", a2, 12, done)));
        Assert.Equal([new UnreadFrom("carol", 1), new UnreadFrom("alice", 1)], await store.UnreadAsync("bob", 10, CancellationToken.None));
        Assert.Equal(2, store.UndeliveredCounts()["bob"]);
        var tail = await store.ReadDirectTailAsync("alice", "bob", 10, CancellationToken.None);
        Assert.Equal(["a1", "a2", "a3", "to alice"], tail.Select(m => m.Body));
        Assert.Equal([12, 12, null, null], tail.Select(m => m.ReadAt));
    }
}
