using Parley.Protocol.Accounts;

namespace Parley.Tests.Unit;

public sealed class AccountRulesTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("abcdefghijklmnopqrstuvwxyz1234567")] // 33 characters
    public void An_id_too_short_or_too_long_is_refused_naming_the_length_rule(string? id) =>
        Assert.Contains("2 to 32 characters", AccountRules.CheckNewId(id), StringComparison.Ordinal);

    [Theory]
    [InlineData("1alice")]
    [InlineData("_alice")]
    [InlineData(".alice")]
    [InlineData("-alice")]
    public void An_id_must_start_with_a_letter(string id) =>
        Assert.Contains("start with a letter", AccountRules.CheckNewId(id), StringComparison.Ordinal);

    [Theory]
    [InlineData("al ice")]
    [InlineData("al,ice")]
    [InlineData("a=b")]
    [InlineData("al@ice")]
    [InlineData("alïce")]
    [InlineData("al/ice")]
    public void An_id_with_other_characters_is_refused_naming_the_allowed_ones(string id) =>
        Assert.Contains("only letters, digits, '_', '-' and '.'", AccountRules.CheckNewId(id), StringComparison.Ordinal);

    [Theory]
    [InlineData("admin")]
    [InlineData("ADMIN")]
    [InlineData("Root")]
    [InlineData("EveryOne")]
    [InlineData("sYsTeM")]
    public void Reserved_ids_are_refused_in_any_letter_case(string id)
    {
        var message = AccountRules.CheckNewId(id);
        Assert.Contains("reserved", message, StringComparison.Ordinal);
        Assert.Contains($"'{id}'", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("admin")]
    [InlineData("Moderator")]
    public void The_admin_may_hand_out_a_reserved_id(string id) => Assert.Null(AccountRules.CheckNewId(id, allowReserved: true));

    [Fact]
    public void Allowing_reserved_ids_does_not_relax_the_other_rules() =>
        Assert.NotNull(AccountRules.CheckNewId("1admin", allowReserved: true));

    [Theory]
    [InlineData("al")]
    [InlineData("alice")]
    [InlineData("Bob.Smith-2_x")]
    [InlineData("administrators")]
    [InlineData("abcdefghijklmnopqrstuvwxyz123456")] // 32 characters
    public void A_valid_id_passes(string id) => Assert.Null(AccountRules.CheckNewId(id));

    [Fact]
    public void A_password_shorter_than_the_minimum_is_refused_naming_the_minimum()
    {
        Assert.Contains("at least 8 characters", AccountRules.CheckNewPassword("alice", "1234567", 8), StringComparison.Ordinal);
        Assert.Null(AccountRules.CheckNewPassword("alice", "12345678", 8));
        Assert.Contains("at least 12 characters", AccountRules.CheckNewPassword("alice", "12345678", 12), StringComparison.Ordinal);
    }

    [Fact]
    public void A_password_longer_than_the_maximum_is_refused_naming_the_maximum()
    {
        Assert.Contains($"at most {AccountRules.MaxPasswordLength} characters",
            AccountRules.CheckNewPassword("alice", new string('x', AccountRules.MaxPasswordLength + 1), 8), StringComparison.Ordinal);
        Assert.Null(AccountRules.CheckNewPassword("alice", new string('x', AccountRules.MaxPasswordLength), 8));
    }

    [Theory]
    [InlineData("alice.smith")]
    [InlineData("Alice.Smith")]
    [InlineData("ALICE.SMITH")]
    [InlineData(" alice.smith ")]
    public void A_password_equal_to_the_id_in_any_letter_case_is_refused(string password) =>
        Assert.Contains("must not be the client ID", AccountRules.CheckNewPassword("alice.smith", password, 8), StringComparison.Ordinal);

    [Fact]
    public void A_password_that_merely_contains_the_id_is_accepted() =>
        Assert.Null(AccountRules.CheckNewPassword("alice", "alice-in-wonderland", 8));
}
