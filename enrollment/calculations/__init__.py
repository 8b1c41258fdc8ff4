"""The registry's rules as pure functions over inputs and policy parameters, in the form of
benefits.calculations (socialsec.core.calculations): proxy_payment, who is proxy-paid (代缴)
for a year and how much (DOMAIN §1.3, §0.5)."""
