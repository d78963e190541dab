      * Detail record of the posting request (REC-TYPE 'D'), one per
      * payment applied by its loan core; batch/request-detail-record.ts.
       01  PAY-DETAIL-RECORD.
      *        1       'D'
           05  REC-TYPE            PIC X(1).
      *        2-37    the hub's payment id (UUID)
           05  PAYMENT-ID          PIC X(36).
      *        38-57   the receipt number given to the channel
           05  RECEIPT-NUMBER      PIC X(20).
      *        58-63   APP WEB AGENTS ATM STORES
           05  CHANNEL             PIC X(6).
      *        64-103  the channel's own reference
           05  CHANNEL-REF         PIC X(40).
      *        104-115
           05  LOAN-NUMBER         PIC 9(12).
      *        116-118 PEN USD
           05  CURRENCY            PIC X(3).
      *        119-126 8 bytes, sign nibble C or D
           05  AMOUNT              PIC S9(13)V99 COMP-3.
      *        127-140 YYYYMMDDHHMMSS in the bank's time zone
           05  APPLIED-AT          PIC 9(14).
      *        141-164 the loan core's own reference
           05  CORE-REF            PIC X(24).
      *        165-200
           05  FILLER              PIC X(36).
