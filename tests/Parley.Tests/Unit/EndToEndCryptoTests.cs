using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Parley.Protocol.Security.EndToEnd;

namespace Parley.Tests.Unit;

/// <summary>Issue #5's crypto without a server: envelopes, key backups, safety numbers, published identity keys.</summary>
public sealed partial class EndToEndCryptoTests : IClassFixture<EndToEndCryptoTests.SealedBackupFixture>, IDisposable
{
    private const string Text = "Grüße aus Köln — 你好 👋";
    private readonly IdentityKey _alice = IdentityKey.Create();
    private readonly IdentityKey _bob = IdentityKey.Create();
    private readonly IdentityKey _carol = IdentityKey.Create();
    private readonly SealedBackupFixture _backup;

    public EndToEndCryptoTests(SealedBackupFixture backup) => _backup = backup;

    private static MessageContext AliceToBob => new(MessageKind.Chat, "alice", "bob", "session-1");

    public void Dispose()
    {
        _alice.Dispose();
        _bob.Dispose();
        _carol.Dispose();
    }

    [Fact]
    public void The_recipient_opens_the_envelope_and_gets_the_text_back_unchanged()
    {
        var envelope = SealedMessage.Seal(_alice, _bob.Public, AliceToBob, Text);
        Assert.StartsWith(SealedMessage.Prefix, envelope, StringComparison.Ordinal);
        Assert.DoesNotContain("Köln", envelope, StringComparison.Ordinal);

        var opened = Parse(envelope).Open(_bob, _alice.Public, AliceToBob, meIsSender: false);
        Assert.Equal((Text, OpenFailure.None), (opened.Text, opened.Failure));
    }

    [Fact]
    public void The_sender_opens_their_own_copy_to_read_their_history_back()
    {
        var envelope = SealedMessage.Seal(_alice, _bob.Public, AliceToBob, Text);
        var opened = Parse(envelope).Open(_alice, _alice.Public, AliceToBob, meIsSender: true);
        Assert.Equal((Text, OpenFailure.None), (opened.Text, opened.Failure));
    }

    [Fact]
    public void The_envelope_names_its_kind_and_the_keys_it_was_sealed_with_and_from()
    {
        var dm = new MessageContext(MessageKind.Dm, "alice", "bob", "");
        var parsed = Parse(SealedMessage.Seal(_alice, _bob.Public, dm, Text));
        Assert.Equal(MessageKind.Dm, parsed.Kind);
        Assert.Equal(_alice.Public.Fingerprint, parsed.SenderFingerprint);
        Assert.Equal(_bob.Public.Fingerprint, parsed.RecipientFingerprint);
        Assert.Equal(Text, parsed.Open(_bob, _alice.Public, dm, meIsSender: false).Text);
    }

    [Fact]
    public void The_letter_case_of_the_IDs_in_the_context_does_not_matter()
    {
        var envelope = SealedMessage.Seal(_alice, _bob.Public, AliceToBob, Text);
        var asTheServerSpellsThem = new MessageContext(MessageKind.Chat, "Alice", "BOB", "session-1");
        Assert.Equal(Text, Parse(envelope).Open(_bob, _alice.Public, asTheServerSpellsThem, meIsSender: false).Text);
    }

    [Fact]
    public void A_third_user_cannot_open_a_message_between_two_others()
    {
        var envelope = Parse(SealedMessage.Seal(_alice, _bob.Public, AliceToBob, Text));
        foreach (var asSender in new[] { false, true })
        {
            var opened = envelope.Open(_carol, _alice.Public, AliceToBob, meIsSender: asSender);
            Assert.Null(opened.Text);
            Assert.Contains(opened.Failure, new[] { OpenFailure.OtherKey, OpenFailure.NotAuthentic });
        }
    }

    [Fact]
    public void A_recipient_whose_key_was_replaced_is_told_so_rather_than_that_the_message_is_forged()
    {
        var envelope = Parse(SealedMessage.Seal(_alice, _bob.Public, AliceToBob, Text));
        using var bobsNewKey = IdentityKey.Create();
        Assert.Equal(new OpenResult(null, OpenFailure.OtherKey), envelope.Open(bobsNewKey, _alice.Public, AliceToBob, meIsSender: false));
    }

    public static TheoryData<string> Readdressings => ["to carol", "other conversation", "as a DM", "from carol", "from bob to alice"];

    [Theory]
    [MemberData(nameof(Readdressings))]
    public void A_message_the_server_re_addresses_does_not_open(string change)
    {
        var envelope = Parse(SealedMessage.Seal(_alice, _bob.Public, AliceToBob, Text));
        var context = change switch
        {
            "to carol" => AliceToBob with { To = "carol" },
            "other conversation" => AliceToBob with { Conversation = "session-2" },
            "as a DM" => AliceToBob with { Kind = MessageKind.Dm },
            "from carol" => AliceToBob with { From = "carol" },
            _ => AliceToBob with { From = "bob", To = "alice" },
        };

        Assert.Equal(new OpenResult(null, OpenFailure.NotAuthentic), envelope.Open(_bob, _alice.Public, context, meIsSender: false));
    }

    [Fact]
    public void A_message_checked_against_another_users_key_is_not_authentic()
    {
        var envelope = Parse(SealedMessage.Seal(_alice, _bob.Public, AliceToBob, Text));
        Assert.Equal(new OpenResult(null, OpenFailure.NotAuthentic), envelope.Open(_bob, _carol.Public, AliceToBob, meIsSender: false));
    }

    [Fact]
    public void A_message_carol_seals_in_alices_name_is_not_authentic()
    {
        var forged = Parse(SealedMessage.Seal(_carol, _bob.Public, AliceToBob, Text));
        Assert.Equal(new OpenResult(null, OpenFailure.NotAuthentic), forged.Open(_bob, _alice.Public, AliceToBob, meIsSender: false));
    }

    // Layout (SealedMessage remarks): version 0, kind 1, message ID 2, sender fingerprint 18, recipient fingerprint 34,
    // ephemeral point 50, recipient wrap 115, sender wrap 163, nonce 211, ciphertext 223, then tag and signature.
    public static TheoryData<int> FlippedBytes => [0, 1, 2, 17, 18, 34, 50, 51, 114, 115, 150, 163, 200, 211, 222, 223, 230, -80, -65, -64, -1];

    [Theory]
    [MemberData(nameof(FlippedBytes))]
    public void Any_byte_changed_in_transit_makes_the_envelope_fail_to_open(int position)
    {
        var envelope = SealedMessage.Seal(_alice, _bob.Public, AliceToBob, Text);
        var raw = Convert.FromBase64String(envelope[SealedMessage.Prefix.Length..]);
        raw[position < 0 ? raw.Length + position : position] ^= 0x01;
        var tampered = SealedMessage.TryParse(SealedMessage.Prefix + Convert.ToBase64String(raw));

        if (position is 0 or 1)
        {
            Assert.Null(tampered); // an unknown version or kind is refused before any crypto
            return;
        }

        Assert.NotNull(tampered);
        foreach (var (me, asSender) in new[] { (_bob, false), (_alice, true) })
        {
            var opened = tampered.Open(me, _alice.Public, AliceToBob, asSender);
            Assert.Null(opened.Text);
            Assert.NotEqual(OpenFailure.None, opened.Failure);
        }
    }

    [Fact]
    public void An_envelope_cut_short_does_not_open()
    {
        var raw = Convert.FromBase64String(SealedMessage.Seal(_alice, _bob.Public, AliceToBob, Text)[SealedMessage.Prefix.Length..]);
        var shorter = SealedMessage.TryParse(SealedMessage.Prefix + Convert.ToBase64String(raw[..^3]));
        Assert.NotNull(shorter); // still longer than the fixed fields: it parses, but must not open
        Assert.Null(shorter.Open(_bob, _alice.Public, AliceToBob, meIsSender: false).Text);
        Assert.Null(SealedMessage.TryParse(SealedMessage.Prefix + Convert.ToBase64String(raw[..(SealedMessage.OverheadBytes - 1)])));
    }

    [Fact]
    public void What_is_not_an_envelope_does_not_parse()
    {
        var envelope = SealedMessage.Seal(_alice, _bob.Public, AliceToBob, "");
        Assert.NotNull(SealedMessage.TryParse(envelope));
        Assert.Null(SealedMessage.TryParse(null));
        Assert.Null(SealedMessage.TryParse(""));
        Assert.Null(SealedMessage.TryParse("hello bob"));
        Assert.Null(SealedMessage.TryParse(SealedMessage.Prefix));
        Assert.Null(SealedMessage.TryParse(SealedMessage.Prefix + "not base64!"));
        Assert.Null(SealedMessage.TryParse("e2e2:" + envelope[SealedMessage.Prefix.Length..]));
        Assert.Null(SealedMessage.TryParse(envelope[SealedMessage.Prefix.Length..]));
        Assert.False(SealedMessage.IsEnvelope("hello bob"));
        Assert.True(SealedMessage.IsEnvelope(envelope));
    }

    [Theory]
    [InlineData(4096)]
    [InlineData(4097)]
    [InlineData(4101)]
    [InlineData(2048)]
    [InlineData(65536)]
    public void The_longest_text_MaxTextBytes_allows_fits_the_wire_limit_and_one_byte_more_does_not(int limit)
    {
        var most = SealedMessage.MaxTextBytes(limit);
        Assert.True(most > 0);
        Assert.InRange(SealedMessage.Seal(_alice, _bob.Public, AliceToBob, new string('x', most)).Length, 0, limit);
        Assert.True(SealedMessage.Seal(_alice, _bob.Public, AliceToBob, new string('x', most + 1)).Length > limit);
    }

    [Fact]
    public void The_same_text_sealed_twice_gives_different_envelopes_with_different_message_IDs()
    {
        var first = SealedMessage.Seal(_alice, _bob.Public, AliceToBob, Text);
        var second = SealedMessage.Seal(_alice, _bob.Public, AliceToBob, Text);
        Assert.NotEqual(first, second);
        Assert.NotEqual(Parse(first).MessageId, Parse(second).MessageId);
        Assert.Matches("^[0-9a-f]{32}$", Parse(first).MessageId);
    }

    [Fact]
    public void A_backup_opens_with_the_right_password_in_any_letter_case_of_the_ID_and_its_key_reads_old_messages()
    {
        var envelope = Parse(SealedMessage.Seal(_bob, _backup.Key.Public, new MessageContext(MessageKind.Dm, "bob", "alice", ""), Text));
        using var restored = KeyBackup.Open(_backup.Backup, "Alice", SealedBackupFixture.Password, _backup.Key.Public);
        Assert.NotNull(restored);
        Assert.Equal(_backup.Key.Public.Fingerprint, restored.Public.Fingerprint);
        Assert.Equal(Text, envelope.Open(restored, _bob.Public, new MessageContext(MessageKind.Dm, "bob", "alice", ""), meIsSender: false).Text);
    }

    [Fact]
    public void A_backup_does_not_open_with_a_wrong_password() =>
        Assert.Null(KeyBackup.Open(_backup.Backup, "alice", "correct horse battery stapler", _backup.Key.Public));

    [Fact]
    public void A_backup_does_not_open_as_the_backup_of_another_key()
    {
        // A server swapping in other public keys beside the backup is caught.
        Assert.Null(KeyBackup.Open(_backup.Backup, "alice", SealedBackupFixture.Password, _carol.Public));
    }

    [Fact]
    public void A_backup_does_not_open_as_another_users_backup() =>
        Assert.Null(KeyBackup.Open(_backup.Backup, "carol", SealedBackupFixture.Password, _backup.Key.Public));

    [Fact]
    public void A_tampered_backup_does_not_open()
    {
        var box = _backup.Backup.Box.ToArray();
        box[KeyBackup.BoxBytes / 2] ^= 0x01;
        Assert.Null(KeyBackup.Open(_backup.Backup with { Box = box }, "alice", SealedBackupFixture.Password, _backup.Key.Public));
    }

    [Fact]
    public void A_backup_with_too_few_or_too_many_iterations_or_malformed_parts_is_refused_before_hashing()
    {
        // Each would be refused at once; none of these runs PBKDF2 (a server must not make a client hash for hours).
        var b = _backup.Backup;
        Assert.Null(KeyBackup.Open(b with { Iterations = KeyBackup.MinimumIterations - 1 }, "alice", SealedBackupFixture.Password, _backup.Key.Public));
        Assert.Null(KeyBackup.Open(b with { Iterations = KeyBackup.MaximumIterations + 1 }, "alice", SealedBackupFixture.Password, _backup.Key.Public));
        Assert.Null(KeyBackup.Open(b with { Salt = b.Salt[..8] }, "alice", SealedBackupFixture.Password, _backup.Key.Public));
        Assert.Null(KeyBackup.Open(b with { Box = b.Box[..^1] }, "alice", SealedBackupFixture.Password, _backup.Key.Public));
    }

    [Fact]
    public void A_backup_is_never_sealed_with_fewer_than_600000_iterations()
    {
        Assert.Equal(600_000, KeyBackup.MinimumIterations);
        Assert.Throws<ArgumentOutOfRangeException>(() => KeyBackup.Seal(_alice, "alice", "pw", KeyBackup.MinimumIterations - 1));
        Assert.Equal(KeyBackup.MinimumIterations, _backup.Backup.Iterations);
        Assert.Equal((KeyBackup.SaltBytes, KeyBackup.BoxBytes), (_backup.Backup.Salt.Length, _backup.Backup.Box.Length));
        Assert.Equal(_backup.Key.Public.Fingerprint, _backup.Backup.Fingerprint);
    }

    [Fact]
    public void Both_users_compute_the_same_safety_number_of_twelve_groups_of_five_digits()
    {
        var atAlice = SafetyNumber.Compute("alice", _alice.Public, "bob", _bob.Public);
        Assert.Equal(atAlice, SafetyNumber.Compute("bob", _bob.Public, "alice", _alice.Public));
        Assert.Matches(SafetyNumberFormat(), atAlice);
    }

    [Fact]
    public void The_safety_number_ignores_the_letter_case_of_the_IDs() =>
        Assert.Equal(
            SafetyNumber.Compute("alice", _alice.Public, "bob", _bob.Public),
            SafetyNumber.Compute("ALICE", _alice.Public, "Bob", _bob.Public));

    [Fact]
    public void The_safety_number_changes_when_either_key_changes()
    {
        var before = SafetyNumber.Compute("alice", _alice.Public, "bob", _bob.Public);
        Assert.NotEqual(before, SafetyNumber.Compute("alice", _carol.Public, "bob", _bob.Public));
        Assert.NotEqual(before, SafetyNumber.Compute("alice", _alice.Public, "bob", _carol.Public));
        Assert.NotEqual(before, SafetyNumber.Compute("alice", _alice.Public, "carol", _bob.Public));
    }

    [Fact]
    public void A_published_key_parses_back_to_the_same_fingerprint()
    {
        using var parsed = IdentityPublicKey.TryParse(_alice.Public.AgreeKeyBase64, _alice.Public.SignKeyBase64);
        Assert.NotNull(parsed);
        Assert.Equal(_alice.Public.Fingerprint, parsed.Fingerprint);
        Assert.Matches("^[0-9a-f]{32}$", parsed.Fingerprint);
        Assert.NotEqual(_alice.Public.Fingerprint, _bob.Public.Fingerprint);
    }

    [Fact]
    public void The_self_signature_verifies_for_its_owner_in_any_letter_case_only()
    {
        var signature = _alice.SignBundle("alice");
        Assert.True(_alice.Public.VerifyBundle("alice", signature));
        Assert.True(_alice.Public.VerifyBundle("ALICE", signature));
        Assert.True(_alice.Public.VerifyBundle("alice", _alice.SignBundle("Alice")));
        Assert.False(_alice.Public.VerifyBundle("carol", signature));
        Assert.False(_alice.Public.VerifyBundle("alice", _bob.SignBundle("alice")));
        Assert.False(_bob.Public.VerifyBundle("alice", signature));
        Assert.False(_alice.Public.VerifyBundle("alice", "not base64!"));
        Assert.False(_alice.Public.VerifyBundle("alice", null));
    }

    public static TheoryData<string> BadPoints => ["off the curve", "compressed", "64 bytes", "66 bytes", "empty", "not base64"];

    [Theory]
    [MemberData(nameof(BadPoints))]
    public void A_public_key_that_is_not_an_uncompressed_P256_point_is_refused(string kind)
    {
        var good = _alice.Public.AgreeKey;
        var offCurve = new byte[65];
        offCurve[0] = 0x04;
        offCurve[32] = 1; // x = 1
        offCurve[64] = 1; // y = 1: not on P-256
        byte[] compressed = [0x02, .. good[1..]];
        var bad = kind switch
        {
            "off the curve" => Convert.ToBase64String(offCurve),
            "compressed" => Convert.ToBase64String(compressed),
            "64 bytes" => Convert.ToBase64String(good[..64]),
            "66 bytes" => Convert.ToBase64String([.. good, 0]),
            "empty" => "",
            _ => "not base64!",
        };

        Assert.Null(IdentityPublicKey.TryParse(bad, _alice.Public.SignKeyBase64));
        Assert.Null(IdentityPublicKey.TryParse(_alice.Public.AgreeKeyBase64, bad));
    }

    private static SealedMessage Parse(string envelope) => SealedMessage.TryParse(envelope) ?? throw new Xunit.Sdk.XunitException("The envelope did not parse.");

    [GeneratedRegex("^[0-9]{5}( [0-9]{5}){11}$")]
    private static partial Regex SafetyNumberFormat();

    /// <summary>One backup sealed for the whole class: each seal or open runs 600,000 PBKDF2 iterations.</summary>
    public sealed class SealedBackupFixture : IDisposable
    {
        public const string Password = "correct horse battery staple";

        public SealedBackupFixture() => Backup = KeyBackup.Seal(Key, "alice", Password);

        public IdentityKey Key { get; } = IdentityKey.Create();

        public SealedBackup Backup { get; }

        public void Dispose() => Key.Dispose();
    }
}
