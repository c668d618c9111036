/// Email. Delivery through the outbox arrives with the tickets issue; the target exists now so
/// that the walls between modules are set.
public enum ParleyMail {}
